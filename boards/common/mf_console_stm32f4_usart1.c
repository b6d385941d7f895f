/*
 * mf_console_stm32f4_usart1.c - STM32F4 USART1 on PA9 (alternate function 7): the USART2 driver
 * of mf_console_stm32f4_usart2.c moved to USART1, which sits on APB2 (RCC_APB2ENR bit 4) at
 * 0x40011000 with the same register layout (SR, DR, BRR, CR1). 115200 8N1 from the 16 MHz HSI
 * that runs APB2 after reset (BRR = 139). Transmit only, polled. QEMU's STM32F405 connects
 * USART1 to its first serial port.
 */
#include "mf_board.h"

#define RCC_AHB1ENR 0x40023830u
#define RCC_APB2ENR 0x40023844u
#define GPIOA_MODER 0x40020000u
#define GPIOA_AFRH 0x40020024u
#define USART1_SR 0x40011000u
#define USART1_DR 0x40011004u
#define USART1_BRR 0x40011008u
#define USART1_CR1 0x4001100Cu
#define SR_TXE (1u << 7)
#define CR1_UE (1u << 13)
#define CR1_TE (1u << 3)

void mf_console_init(void)
{
    MF_REG32(RCC_AHB1ENR) |= 1u << 0; /* GPIOA clock */
    MF_REG32(RCC_APB2ENR) |= 1u << 4; /* USART1 clock */
    MF_REG32(GPIOA_MODER) = (MF_REG32(GPIOA_MODER) & ~(3u << 18)) | (2u << 18); /* PA9: AF */
    MF_REG32(GPIOA_AFRH) = (MF_REG32(GPIOA_AFRH) & ~(0xFu << 4)) | (7u << 4);  /* AF7 */
    MF_REG32(USART1_BRR) = 139u;
    MF_REG32(USART1_CR1) = CR1_UE | CR1_TE;
}

void mf_console_write(const char *data, uint32_t length)
{
    uint32_t i;
    for (i = 0; i < length; ++i) {
        while ((MF_REG32(USART1_SR) & SR_TXE) == 0u) {
        }
        MF_REG32(USART1_DR) = (uint8_t)data[i];
    }
}
