/*
 * mf_console_rp2040_uart0.c - RP2040 UART0 (an Arm PL011) on GP0. The boot ROM leaves the chip
 * on its ring oscillator, whose frequency varies from part to part; this switches clk_ref and
 * clk_sys to the Pico's 12 MHz crystal (XOSC) and clk_peri to clk_sys, so that the baud rate and
 * the SysTick counter are exact: 115200 8N1 from 12 MHz is IBRD 6, FBRD 33.
 */
#include "mf_board.h"

#define XOSC_CTRL 0x40024000u
#define XOSC_STATUS 0x40024004u
#define XOSC_STARTUP 0x4002400Cu
#define XOSC_CTRL_1_15MHZ 0xAA0u
#define XOSC_CTRL_ENABLE (0xFABu << 12)
#define XOSC_STATUS_STABLE (1u << 31)
#define CLK_REF_CTRL 0x40008030u
#define CLK_REF_SELECTED 0x40008038u
#define CLK_SYS_CTRL 0x4000803Cu
#define CLK_SYS_SELECTED 0x40008044u
#define CLK_PERI_CTRL 0x40008048u
#define CLK_PERI_ENABLE (1u << 11)
#define RESETS_RESET_CLR 0x4000F000u /* atomic clear alias of RESETS_RESET (0x4000C000) */
#define RESETS_RESET_DONE 0x4000C008u
#define RESET_IO_BANK0 (1u << 5)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_UART0 (1u << 22)
#define GPIO0_CTRL 0x40014004u
#define FUNCSEL_UART 2u
#define UART0_DR 0x40034000u
#define UART0_FR 0x40034018u
#define UART0_IBRD 0x40034024u
#define UART0_FBRD 0x40034028u
#define UART0_LCR_H 0x4003402Cu
#define UART0_CR 0x40034030u
#define FR_TXFF (1u << 5)

void mf_console_init(void)
{
    const uint32_t blocks = RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0;
    MF_REG32(XOSC_STARTUP) = 47u; /* (12 MHz / 1000 + 128) / 256: about 1 ms */
    MF_REG32(XOSC_CTRL) = XOSC_CTRL_1_15MHZ | XOSC_CTRL_ENABLE;
    while ((MF_REG32(XOSC_STATUS) & XOSC_STATUS_STABLE) == 0u) {
    }
    MF_REG32(CLK_REF_CTRL) = 2u; /* clk_ref <- XOSC */
    while ((MF_REG32(CLK_REF_SELECTED) & (1u << 2)) == 0u) {
    }
    MF_REG32(CLK_SYS_CTRL) = 0u; /* clk_sys <- clk_ref */
    while ((MF_REG32(CLK_SYS_SELECTED) & 1u) == 0u) {
    }
    MF_REG32(CLK_PERI_CTRL) = CLK_PERI_ENABLE; /* clk_peri <- clk_sys (AUXSRC 0) */
    MF_REG32(RESETS_RESET_CLR) = blocks;
    while ((MF_REG32(RESETS_RESET_DONE) & blocks) != blocks) {
    }
    MF_REG32(GPIO0_CTRL) = FUNCSEL_UART;
    MF_REG32(UART0_IBRD) = 6u;
    MF_REG32(UART0_FBRD) = 33u;
    MF_REG32(UART0_LCR_H) = (3u << 5) | (1u << 4); /* 8 bits, FIFOs on */
    MF_REG32(UART0_CR) = (1u << 0) | (1u << 8);   /* UART and transmitter on */
}

void mf_console_write(const char *data, uint32_t length)
{
    uint32_t i;
    for (i = 0; i < length; ++i) {
        while ((MF_REG32(UART0_FR) & FR_TXFF) != 0u) {
        }
        MF_REG32(UART0_DR) = (uint8_t)data[i];
    }
}
