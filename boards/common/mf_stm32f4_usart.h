/*
 * mf_stm32f4_usart.h - the transmit-only, polled console of the STM32F4 USARTs (RM0090: SR, DR,
 * BRR and CR1 at offsets 0x0, 0x4, 0x8 and 0xC of each USART), on a GPIOA pin in alternate
 * function 7. Each mf_console_stm32f4_usartN.c gives its USART's base address, its clock-enable
 * register and bit, and its TX pin.
 */
#ifndef MF_STM32F4_USART_H
#define MF_STM32F4_USART_H

#include "mf_board.h"

#define MF_STM32F4_RCC_AHB1ENR 0x40023830u
#define MF_STM32F4_GPIOA 0x40020000u /* MODER at +0x00, AFRL at +0x20, AFRH at +0x24 */
#define MF_STM32F4_SR_TXE (1u << 7)
#define MF_STM32F4_CR1_UE (1u << 13)
#define MF_STM32F4_CR1_TE (1u << 3)

/* 115200 8N1 from the 16 MHz HSI that clocks APB1 and APB2 after reset: BRR = 16e6 / 115200,
 * rounded (138.9 -> 139). */
static inline void mf_stm32f4_usart_init(uint32_t usart, uint32_t rcc_enr, uint32_t rcc_bit,
                                         uint32_t tx_pin)
{
    const uint32_t afr = MF_STM32F4_GPIOA + (tx_pin < 8u ? 0x20u : 0x24u);
    const uint32_t nibble = (tx_pin % 8u) * 4u;
    MF_REG32(MF_STM32F4_RCC_AHB1ENR) |= 1u << 0; /* GPIOA clock */
    MF_REG32(rcc_enr) |= 1u << rcc_bit;          /* the USART's clock */
    MF_REG32(MF_STM32F4_GPIOA) = (MF_REG32(MF_STM32F4_GPIOA) & ~(3u << (2u * tx_pin))) |
                                 (2u << (2u * tx_pin)); /* the pin: alternate function */
    MF_REG32(afr) = (MF_REG32(afr) & ~(0xFu << nibble)) | (7u << nibble); /* AF7 */
    MF_REG32(usart + 0x8u) = 139u;
    MF_REG32(usart + 0xCu) = MF_STM32F4_CR1_UE | MF_STM32F4_CR1_TE;
}

static inline void mf_stm32f4_usart_write(uint32_t usart, const char *data, uint32_t length)
{
    uint32_t i;
    for (i = 0; i < length; ++i) {
        while ((MF_REG32(usart) & MF_STM32F4_SR_TXE) == 0u) {
        }
        MF_REG32(usart + 0x4u) = (uint8_t)data[i];
    }
}

#endif /* MF_STM32F4_USART_H */
