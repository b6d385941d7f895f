/* mf_exit_loop.c - mf_exit for real boards: print the status, then stop here for good. */
#include "mf_board.h"

void mf_exit(int status)
{
    mf_print("mcuforge: exit ");
    mf_print_i32(status);
    mf_print("\n");
    mf_print_flush();
    for (;;) {
        __asm__ volatile("wfi");
    }
}
