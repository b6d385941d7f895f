/*
 * mf_console_cmsdk_uart0.c - the Arm CMSDK APB UART0 of the MPS2 FPGA images (0x40004000), as
 * QEMU models it (-serial stdio). Transmit only, polled; the baud divisor assumes the 25 MHz
 * peripheral clock (25e6 / 115200 = 217).
 */
#include "mf_board.h"

#define UART0_DATA 0x40004000u
#define UART0_STATE 0x40004004u
#define UART0_CTRL 0x40004008u
#define UART0_BAUDDIV 0x40004010u
#define STATE_TX_FULL (1u << 0)
#define CTRL_TX_ENABLE (1u << 0)

void mf_console_init(void)
{
    MF_REG32(UART0_BAUDDIV) = 217u;
    MF_REG32(UART0_CTRL) = CTRL_TX_ENABLE;
}

void mf_console_write(const char *data, uint32_t length)
{
    uint32_t i;
    for (i = 0; i < length; ++i) {
        while ((MF_REG32(UART0_STATE) & STATE_TX_FULL) != 0u) {
        }
        MF_REG32(UART0_DATA) = (uint8_t)data[i];
    }
}
