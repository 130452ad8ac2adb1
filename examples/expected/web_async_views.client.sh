# The client side of examples/web_async_views.cpp (run by run_examples.sh with
# CORIO_EXAMPLE_PORT set while the server runs): curl, a real client.
base="http://127.0.0.1:$CORIO_EXAMPLE_PORT"
curl -sS "$base/"; echo
curl -sS "$base/quart"; echo
curl -sS "$base/users/42"; echo
curl -sS -o /dev/null -w '%{http_code}\n' "$base/missing"
# Ten slow views at once take about one second, not ten.
start=$(date +%s%N)
for i in $(seq 10); do curl -sS -o /dev/null "$base/" & done
wait
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
if ((elapsed_ms < 5000)); then echo "10 concurrent views: concurrent"; else echo "10 concurrent views: took ${elapsed_ms} ms"; fi
