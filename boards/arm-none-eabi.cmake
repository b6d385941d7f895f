# arm-none-eabi.cmake - CMake toolchain file for GNU Arm Embedded (arm-none-eabi-gcc).
# Set MF_BOARD_CFLAGS (from the board's board.json "cflags": -mcpu, -mthumb, -mfpu, -mfloat-abi)
# before project(); mcuforge's generated CMakeLists.txt does.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_OBJCOPY arm-none-eabi-objcopy)
set(CMAKE_SIZE arm-none-eabi-size)
# try_compile cannot link without a linker script: build a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "${MF_BOARD_CFLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${MF_BOARD_CFLAGS}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
