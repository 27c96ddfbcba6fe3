/*
 * Saveoops purgatory: header, parameter block and 64-bit entry.
 *
 * The panicking kernel's relocate_kernel (arch/x86/kernel/relocate_kernel_64.S)
 * arrives here in long mode on an identity map, with interrupts off, no
 * usable stack, and a GDT/IDT that belonged to the dead kernel. Everything in
 * this file is RIP-relative so the image runs wherever the loader put it.
 *
 * Steps: own stack -> own GDT and flat segments -> SSE on (for SHA-NI) ->
 * purgatory_main() verifies and backs up -> load the capture kernel's entry
 * registers -> jump. If purgatory_main() refuses, halt forever.
 */
#include "purgatory/purgatory_abi.h"

/* Selectors of our GDT; the 64-bit boot protocol (boot.rst) wants
 * __BOOT_CS = 0x10 and __BOOT_DS = 0x18. */
#define BOOT_CS 0x10
#define BOOT_DS 0x18

#define X86_CR0_MP (1 << 1)
#define X86_CR0_EM (1 << 2)
#define X86_CR0_TS (1 << 3)
#define X86_CR4_OSFXSR (1 << 9)
#define X86_CR4_OSXMMEXCPT (1 << 10)

	.section .purgatory.head, "awx", @progbits
	.code64
	.globl purgatory_start
purgatory_start:
	/* struct PurgatoryHeader */
	.long SAVEOOPS_PURGATORY_MAGIC_LO
	.long SAVEOOPS_PURGATORY_MAGIC_HI
	.long SAVEOOPS_PURGATORY_ABI_VERSION
	.long SAVEOOPS_PURGATORY_HEADER_SIZE
	.long purgatory_entry - purgatory_start
	.long purgatory_params - purgatory_start
	.long SAVEOOPS_PURGATORY_PARAMS_SIZE
	.long 0

	/* struct PurgatoryParams, filled in by the loader. */
	.balign 16
	.globl purgatory_params
purgatory_params:
	.fill SAVEOOPS_PURGATORY_PARAMS_SIZE, 1, 0

	.balign 16
gdt:
	.quad 0                    /* null */
	.quad 0                    /* unused, keeps CS at 0x10 */
	.quad 0x00af9a000000ffff   /* 0x10: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff   /* 0x18: flat data, DPL 0 */
gdt_end:

	.balign 16
gdt_pointer:
	.word gdt_end - gdt - 1
	.quad 0                    /* base, written at run time (position independent) */

	.balign 16
	.globl purgatory_entry
purgatory_entry:
	cli
	cld
	leaq	purgatory_stack_top(%rip), %rsp

	/* Our own GDT: the dead kernel's may be anywhere, even overwritten. */
	leaq	gdt(%rip), %rax
	movq	%rax, gdt_pointer+2(%rip)
	lgdt	gdt_pointer(%rip)
	pushq	$BOOT_CS
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq
1:
	movl	$BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs

	/* relocate_kernel leaves CR4 with little more than PAE, so SSE
	 * instructions would fault; SHA-NI needs them. */
	movq	%cr0, %rax
	andq	$~(X86_CR0_EM | X86_CR0_TS), %rax
	orq	$X86_CR0_MP, %rax
	movq	%rax, %cr0
	movq	%cr4, %rax
	orq	$(X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT), %rax
	movq	%rax, %cr4

	leaq	purgatory_params(%rip), %rdi
	call	purgatory_main
	testl	%eax, %eax
	jnz	purgatory_halt

	/* Enter the capture kernel (boot.rst "64-bit Boot Protocol"). */
	leaq	purgatory_params(%rip), %rbx
	movq	SAVEOOPS_PURGATORY_PARAMS_ENTRY_RSP(%rbx), %rax
	testq	%rax, %rax
	jz	2f
	movq	%rax, %rsp
2:
	movq	SAVEOOPS_PURGATORY_PARAMS_ENTRY_RIP(%rbx), %rax
	movq	SAVEOOPS_PURGATORY_PARAMS_ENTRY_RSI(%rbx), %rsi
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	jmpq	*%rax

	/* Refused: never jump into unverified code. */
	.globl purgatory_halt
purgatory_halt:
	cli
	hlt
	jmp	purgatory_halt

	.section .purgatory.stack, "aw", @progbits
	.balign 16
purgatory_stack:
	.fill 16384, 1, 0
	.globl purgatory_stack_top
purgatory_stack_top:
