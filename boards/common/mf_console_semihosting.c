/*
 * mf_console_semihosting.c - console through Arm semihosting (BKPT 0xAB, SYS_WRITE0). Under QEMU
 * (-semihosting-config enable=on,target=native) the text appears on QEMU's standard error. On
 * hardware without a debugger attached a semihosting call faults, so only QEMU boards use it.
 */
#include "mf_board.h"

#define SYS_WRITE0 0x04

static uint32_t mf_semihost(uint32_t op, uintptr_t arg)
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
    (void)mf_semihost(SYS_WRITE0, (uintptr_t)data);
}
