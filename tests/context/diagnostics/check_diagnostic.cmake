# cmake -DCXX=<compiler> -DINCLUDE=<corio/include> -DSOURCE=<file.cpp>
#       -DEXPECT_FIRST_ERROR=<text> -DEXPECT_ALSO=<text>[;<text>...] -P check_diagnostic.cmake
# Compiles SOURCE, which must fail, and checks that the first "error:" line
# the compiler prints contains EXPECT_FIRST_ERROR (corio's own message, not
# an error from deep inside its templates), that it is the only error, and
# that each EXPECT_ALSO text appears somewhere in the output.
foreach(var CXX INCLUDE SOURCE EXPECT_FIRST_ERROR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_diagnostic.cmake: -D${var}=... is required")
  endif()
endforeach()

execute_process(
  COMMAND ${CXX} -std=c++20 -fsyntax-only -fno-diagnostics-color -I${INCLUDE} ${SOURCE}
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
string(APPEND out "${err}")

if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not:\n${out}")
endif()

string(REGEX MATCHALL "[^\n]*error:[^\n]*" errors "${out}")
list(LENGTH errors count)
if(count EQUAL 0)
  message(FATAL_ERROR "no 'error:' line in the compiler's output:\n${out}")
endif()
list(GET errors 0 first)
string(FIND "${first}" "${EXPECT_FIRST_ERROR}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the first error is not corio's:\n  ${first}\nexpected it to contain:\n  ${EXPECT_FIRST_ERROR}\nwhole output:\n${out}")
endif()
if(NOT count EQUAL 1)
  message(FATAL_ERROR "${count} errors, expected only corio's:\n${out}")
endif()
foreach(text IN LISTS EXPECT_ALSO)
  string(FIND "${out}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the output does not name '${text}':\n${out}")
  endif()
endforeach()
message(STATUS "first error is corio's: ${first}")
