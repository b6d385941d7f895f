/*
 * mf_console_nrf51_uart0.c - nRF51 UART0 on P0.24, the micro:bit's TX line to its interface
 * chip's USB serial port. 115200 8N1, transmit only, polled. The register interface is the one
 * mf_console_nrf52_uart0.c drives (the nRF52's UART0 kept it); on the nRF51 PSELTXD is the
 * bare pin number.
 */
#include "mf_board.h"

#define GPIO_OUTSET 0x50000508u
#define GPIO_DIRSET 0x50000518u
#define UART0_TASKS_STARTTX 0x40002008u
#define UART0_EVENTS_TXDRDY 0x4000211Cu
#define UART0_ENABLE 0x40002500u
#define UART0_PSELTXD 0x4000250Cu
#define UART0_TXD 0x4000251Cu
#define UART0_BAUDRATE 0x40002524u
#define UART0_CONFIG 0x4000256Cu
#define TX_PIN 24u
#define BAUD_115200 0x01D7E000u
#define ENABLE_UART 4u

void mf_console_init(void)
{
    MF_REG32(GPIO_OUTSET) = 1u << TX_PIN; /* idle high before the UART takes the pin */
    MF_REG32(GPIO_DIRSET) = 1u << TX_PIN;
    MF_REG32(UART0_PSELTXD) = TX_PIN;
    MF_REG32(UART0_BAUDRATE) = BAUD_115200;
    MF_REG32(UART0_CONFIG) = 0u; /* no parity, no flow control */
    MF_REG32(UART0_ENABLE) = ENABLE_UART;
    MF_REG32(UART0_TASKS_STARTTX) = 1u;
}

void mf_console_write(const char *data, uint32_t length)
{
    uint32_t i;
    for (i = 0; i < length; ++i) {
        MF_REG32(UART0_EVENTS_TXDRDY) = 0u;
        MF_REG32(UART0_TXD) = (uint8_t)data[i];
        while (MF_REG32(UART0_EVENTS_TXDRDY) == 0u) {
        }
    }
}
