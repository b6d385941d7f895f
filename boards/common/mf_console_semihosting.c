/*
 * mf_console_semihosting.c - console and exit through Arm semihosting (BKPT 0xAB). Under QEMU
 * (-semihosting-config enable=on,target=native) the text appears on QEMU's stdout and SYS_EXIT
 * ends the emulator. On hardware without a debugger attached a semihosting call faults, so
 * only QEMU boards use this console.
 */
#include "mf_board.h"

#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUNTIME_ERROR 0x20023

static uint32_t semihost(uint32_t op, uintptr_t arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register uintptr_t r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void mf_console_init(void) {}

void mf_console_write(const char *data, uint32_t length)
{
    /* mf_print.c always passes a NUL-terminated line */
    (void)length;
    (void)semihost(SYS_WRITE0, (uintptr_t)data);
}

void mf_exit(int status)
{
    mf_print_flush();
    /* On AArch32 SYS_EXIT takes the reason itself in r1: QEMU exits 0 for ApplicationExit,
     * 1 for any other reason. */
    (void)semihost(SYS_EXIT, status == 0 ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUNTIME_ERROR);
    for (;;) {
    }
}
