/*
 * mf_nrf_uart0.h - the transmit-only, polled console of the Nordic UART0 register interface
 * (non-DMA), which the nRF51 and the nRF52 share at 0x40002000, on a port-0 TX pin. 115200 8N1.
 * Each mf_console_nrfNN_uart0.c gives its board's pin (PSELTXD: the pin number on the nRF51;
 * on the nRF52 the same value selects port 0 with bit 31, "disconnected", clear).
 */
#ifndef MF_NRF_UART0_H
#define MF_NRF_UART0_H

#include "mf_board.h"

#define MF_NRF_P0_OUTSET 0x50000508u
#define MF_NRF_P0_DIRSET 0x50000518u
#define MF_NRF_UART0 0x40002000u
#define MF_NRF_TASKS_STARTTX (MF_NRF_UART0 + 0x008u)
#define MF_NRF_EVENTS_TXDRDY (MF_NRF_UART0 + 0x11Cu)
#define MF_NRF_ENABLE (MF_NRF_UART0 + 0x500u)
#define MF_NRF_PSELTXD (MF_NRF_UART0 + 0x50Cu)
#define MF_NRF_TXD (MF_NRF_UART0 + 0x51Cu)
#define MF_NRF_BAUDRATE (MF_NRF_UART0 + 0x524u)
#define MF_NRF_CONFIG (MF_NRF_UART0 + 0x56Cu)
#define MF_NRF_BAUD_115200 0x01D7E000u
#define MF_NRF_ENABLE_UART 4u

static inline void mf_nrf_uart0_init(uint32_t tx_pin)
{
    MF_REG32(MF_NRF_P0_OUTSET) = 1u << tx_pin; /* idle high before the UART takes the pin */
    MF_REG32(MF_NRF_P0_DIRSET) = 1u << tx_pin;
    MF_REG32(MF_NRF_PSELTXD) = tx_pin;
    MF_REG32(MF_NRF_BAUDRATE) = MF_NRF_BAUD_115200;
    MF_REG32(MF_NRF_CONFIG) = 0u; /* no parity, no flow control */
    MF_REG32(MF_NRF_ENABLE) = MF_NRF_ENABLE_UART;
    MF_REG32(MF_NRF_TASKS_STARTTX) = 1u;
}

static inline void mf_nrf_uart0_write(const char *data, uint32_t length)
{
    uint32_t i;
    for (i = 0; i < length; ++i) {
        MF_REG32(MF_NRF_EVENTS_TXDRDY) = 0u;
        MF_REG32(MF_NRF_TXD) = (uint8_t)data[i];
        while (MF_REG32(MF_NRF_EVENTS_TXDRDY) == 0u) {
        }
    }
}

#endif /* MF_NRF_UART0_H */
