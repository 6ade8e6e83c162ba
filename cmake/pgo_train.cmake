# Runs the PGO training program (cmake/pgo.cmake) when it was built after the profile was last
# made, or when there is no profile: a build with nothing changed does not train again.
#   cmake -DPROGRAM=<pgo_train> -DDATA=<profile dir> -P cmake/pgo_train.cmake
set(stamp ${DATA}/trained.stamp)
if(EXISTS ${stamp} AND NOT ${PROGRAM} IS_NEWER_THAN ${stamp})
  return()
endif()
# A fresh profile from the program just built: old counts would be added to.
file(REMOVE_RECURSE ${DATA})
execute_process(COMMAND ${PROGRAM} RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "pgo_train failed (${failed}): no profile for the release build")
endif()
file(TOUCH ${stamp})
