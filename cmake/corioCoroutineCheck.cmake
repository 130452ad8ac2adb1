# corio's configure-time compiler check, run in corio's own build and in a
# consumer's (included by corio's CMakeLists.txt, so by add_subdirectory, and by
# the installed corioConfig.cmake, so by find_package(corio)).
#
# g++ 12 destroys twice a temporary aggregate, or the captures of a lambda,
# written inside a co_await expression: `co_await corio::with(MyManager{"db"},
# body)` crashes. corioCoroutineCheck.cpp reproduces it without corio; this
# builds and runs it with the project's C++ compiler and flags (try_run) and
# warns when the compiler is affected, or when the check does not even compile
# (clang 14 with -fsanitize=undefined). The result is cached per compiler and
# flags, so it runs once; the warning repeats at every configure.
#
# Skipped when cross-compiling, when the project has no C++ compiler, or with
# -DCORIO_SKIP_COROUTINE_CHECK=ON. CORIO_COROUTINE_CHECK_OPTIONS (a list) adds
# compile and link options (corio's own build passes its sanitizer flags).

function(corio_check_coroutine_codegen)
  if(CORIO_SKIP_COROUTINE_CHECK OR CMAKE_CROSSCOMPILING OR NOT CMAKE_CXX_COMPILER_LOADED)
    return()
  endif()
  get_property(done GLOBAL PROPERTY CORIO_COROUTINE_CHECK_DONE)
  if(done)  # once per configure, however many times corio is found
    return()
  endif()
  set_property(GLOBAL PROPERTY CORIO_COROUTINE_CHECK_DONE TRUE)

  set(config "${CMAKE_BUILD_TYPE}")
  if(NOT config AND CMAKE_CONFIGURATION_TYPES)
    list(GET CMAKE_CONFIGURATION_TYPES 0 config)
  endif()
  string(TOUPPER "${config}" config_upper)
  set(source "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/corioCoroutineCheck.cpp")
  file(SHA256 "${source}" source_hash)
  set(key "${CMAKE_CXX_COMPILER}|${CMAKE_CXX_COMPILER_VERSION}|${CMAKE_CXX_FLAGS}|${config}|${CMAKE_CXX_FLAGS_${config_upper}}|${CORIO_COROUTINE_CHECK_OPTIONS}|${source_hash}")

  if(NOT "${CORIO_COROUTINE_CHECK_KEY}" STREQUAL "${key}")
    message(CHECK_START "corio: checking ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION} for the g++ 12 co_await temporary bug")
    if(config)
      set(CMAKE_TRY_COMPILE_CONFIGURATION "${config}")  # the build's own optimization flags
    endif()
    set(options "")
    if(CORIO_COROUTINE_CHECK_OPTIONS)
      set(options COMPILE_DEFINITIONS ${CORIO_COROUTINE_CHECK_OPTIONS} LINK_OPTIONS ${CORIO_COROUTINE_CHECK_OPTIONS})
    endif()
    try_run(run_result compile_result
      "${CMAKE_BINARY_DIR}/CMakeFiles/corio_coroutine_check" "${source}"
      ${options}
      CXX_STANDARD 20
      CXX_STANDARD_REQUIRED ON
      CXX_EXTENSIONS OFF
      COMPILE_OUTPUT_VARIABLE compile_output
      RUN_OUTPUT_VARIABLE run_output)
    if(NOT compile_result)
      set(result "compile-failed")
      # the first error lines are enough to recognize the compiler's bug
      string(REGEX MATCHALL "[^\n]*error:[^\n]*" errors "${compile_output}")
      list(REMOVE_DUPLICATES errors)
      list(SUBLIST errors 0 3 detail)
      message(CHECK_FAIL "the check does not compile")
    elseif("${run_result}" STREQUAL "0")
      set(result "ok")
      set(detail "")
      message(CHECK_PASS "not affected")
    else()
      set(result "affected")
      string(STRIP "${run_output}" detail)
      string(REPLACE ";" "," detail "${detail}")
      string(REPLACE "\n" ";" detail "${detail}")  # a list: a cache entry holds no newline
      if(detail STREQUAL "")
        set(detail "(the check exited with ${run_result})")
      endif()
      message(CHECK_FAIL "affected")
    endif()
    set(CORIO_COROUTINE_CHECK_RESULT "${result}" CACHE INTERNAL "corio: result of the co_await temporary check")
    set(CORIO_COROUTINE_CHECK_DETAIL "${detail}" CACHE INTERNAL "corio: what the co_await temporary check printed")
    set(CORIO_COROUTINE_CHECK_KEY "${key}" CACHE INTERNAL "corio: compiler and flags the check ran with")
  endif()

  set(compiler "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION} (${CMAKE_CXX_COMPILER})")
  list(JOIN CORIO_COROUTINE_CHECK_DETAIL "\n    " detail)
  if(CORIO_COROUTINE_CHECK_RESULT STREQUAL "affected")
    message(WARNING
      "corio: this C++ compiler, ${compiler}, destroys twice a temporary written "
      "inside a co_await expression (a g++ 12 bug, not corio's: "
      "corioCoroutineCheck.cpp reproduces it without corio). Code like this "
      "crashes (\"free(): invalid pointer\", \"munmap_chunk(): invalid pointer\"):\n"
      "  - a braced or parenthesized aggregate temporary:\n"
      "      co_await corio::with(MyManager{\"db\"}, body);\n"
      "      co_await corio::with(MyCM(\"db\"), body);\n"
      "  - a lambda that captures by value, written inside the co_await:\n"
      "      co_await corio::with(m, [name](auto& db) { ... });\n"
      "Fix: name the value first and move it in:\n"
      "      MyManager m{\"db\"};\n"
      "      co_await corio::with(std::move(m), body);\n"
      "      auto body = [name](auto& db) { ... };\n"
      "      co_await corio::with(m, std::move(body));\n"
      "or give the type a constructor (then MyManager(\"db\") is safe). "
      "Or build with clang, which is not affected: CXX=clang++-19 "
      "(Debian 12: apt-get install clang-19). The check found:\n"
      "    ${detail}")
  elseif(CORIO_COROUTINE_CHECK_RESULT STREQUAL "compile-failed")
    set(hint "")
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 15)
      set(hint "\nclang 14 fails so with -fsanitize=undefined (\"Cannot represent a "
        "difference across sections\", from -fsanitize=function): add "
        "-fno-sanitize=function, or use a newer clang (Debian 12: clang-19).")
    endif()
    message(WARNING
      "corio: a small coroutine program (corioCoroutineCheck.cpp) does not "
      "compile with this C++ compiler and flags, ${compiler}, so coroutine code "
      "such as corio's may not either:\n"
      "    ${detail}" ${hint})
  endif()
endfunction()

corio_check_coroutine_codegen()
