/*
 * mf_exit_semihosting.c - mf_exit through Arm semihosting SYS_EXIT, which ends QEMU. On AArch32
 * SYS_EXIT takes the reason itself in r1: QEMU exits 0 for ApplicationExit, 1 for any other.
 */
#include "mf_board.h"

#define SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUNTIME_ERROR 0x20023u

static void semihost_exit(uint32_t reason)
{
    register uint32_t r0 __asm__("r0") = SYS_EXIT;
    register uint32_t r1 __asm__("r1") = reason;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

void mf_exit(int status)
{
    mf_print_flush();
    semihost_exit(status == 0 ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUNTIME_ERROR);
    for (;;) {
    }
}
