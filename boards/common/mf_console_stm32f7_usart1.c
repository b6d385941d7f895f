/*
 * mf_console_stm32f7_usart1.c - STM32F7 USART1 on PA9 (alternate function 7), the ST-LINK
 * virtual COM port of the 32F746GDISCOVERY. STM32F7 USARTs have the newer register layout
 * (CR1 at 0, ISR and TDR). 115200 8N1 from the 16 MHz HSI that runs APB2 after reset
 * (BRR = 139). Transmit only, polled.
 */
#include "mf_board.h"

#define RCC_AHB1ENR 0x40023830u
#define RCC_APB2ENR 0x40023844u
#define GPIOA_MODER 0x40020000u
#define GPIOA_AFRH 0x40020024u
#define USART1_CR1 0x40011000u
#define USART1_BRR 0x4001100Cu
#define USART1_ISR 0x4001101Cu
#define USART1_TDR 0x40011028u
#define ISR_TXE (1u << 7)
#define CR1_UE (1u << 0)
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
        while ((MF_REG32(USART1_ISR) & ISR_TXE) == 0u) {
        }
        MF_REG32(USART1_TDR) = (uint8_t)data[i];
    }
}
