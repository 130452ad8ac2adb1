# The client side of examples/web_json_api.cpp: curl against the running server.
base="http://127.0.0.1:$CORIO_EXAMPLE_PORT"
curl -sS "$base/items/1"; echo
curl -sS -H 'Content-Type: application/json' -d '{"name": "grace"}' -w ' %{http_code}\n' "$base/items"
curl -sS "$base/items/2"; echo
curl -sS -w ' %{http_code}\n' "$base/items/9"
curl -sS -d '{"nope": 1}' -w ' %{http_code}\n' "$base/items"
curl -sS -D - -o /dev/null "$base/items/1" | grep -i '^x-api' | tr -d '\r'
curl -sS "$base/static/hello.txt"
curl -sS -o /dev/null -w '%{http_code}\n' --path-as-is "$base/static/../web_json_api"
curl -sS -N "$base/countdown"
