/*
 * mf_counter_dwt.c - the core's cycle counter, DWT->CYCCNT (Cortex-M3/M4/M7/M33/M55; not on
 * M0/M0+, and not modelled by QEMU). 32 bits, wraps every 2^32 cycles (about 24 s at 180 MHz).
 */
#include "mf_board.h"

#define DEMCR 0xE000EDFCu
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL 0xE0001000u
#define DWT_CYCCNT 0xE0001004u
#define DWT_LAR 0xE0001FB0u /* Cortex-M7 locks the DWT until this key is written */
#define DWT_LAR_KEY 0xC5ACCE55u
#define DWT_CTRL_CYCCNTENA (1u << 0)

void mf_counter_init(void)
{
    MF_REG32(DEMCR) |= DEMCR_TRCENA;
    MF_REG32(DWT_LAR) = DWT_LAR_KEY;
    MF_REG32(DWT_CYCCNT) = 0u;
    MF_REG32(DWT_CTRL) |= DWT_CTRL_CYCCNTENA;
}

uint32_t mf_counter_read(void)
{
    return MF_REG32(DWT_CYCCNT);
}
