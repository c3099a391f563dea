# ctest driver: install xgrad from the build tree into a scratch prefix, then configure, build and
# run tests/consumer against it, as a user's project would.
file(REMOVE_RECURSE ${WORK})
foreach(step
        "${CMAKE_COMMAND};--install;${XGRAD_BUILD};--prefix;${WORK}/prefix"
        "${CMAKE_COMMAND};-S;${CONSUMER};-B;${WORK}/build;-DCMAKE_PREFIX_PATH=${WORK}/prefix;-DCMAKE_BUILD_TYPE=Release"
        "${CMAKE_COMMAND};--build;${WORK}/build;-j2"
        "${WORK}/build/swish_op"
        "${WORK}/build/attention")
    execute_process(COMMAND ${step} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    message("${out}${err}")
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "consumer step failed (${rc}): ${step}")
    endif()
endforeach()
