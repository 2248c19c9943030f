# Runs `ar -M` on an MRI script (ar reads it from standard input): cmake -DAR=... -DSCRIPT=... -P
execute_process(COMMAND ${AR} -M INPUT_FILE ${SCRIPT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${AR} -M < ${SCRIPT} failed (${rc})")
endif()
