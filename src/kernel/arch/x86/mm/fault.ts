// The page-fault exception (arch/x86/mm/fault.c exc_page_fault → do_user_addr_fault): a user
// access that faults enters the kernel, as a syscall does.

import { CTX_SYSTEM, set_cpu_context } from '../../../../machine/cpu.ts';
import { handle_mm_fault } from '../../../mm/memory.ts';

// arch/x86/mm/fault.c exc_page_fault: 0, or -EFAULT (the task would get SIGSEGV)
export function exc_page_fault(mm: number, addr: number, write: boolean): number {
  const context = set_cpu_context(CTX_SYSTEM);
  try {
    return handle_mm_fault(mm, addr, write);
  } finally {
    set_cpu_context(context);
  }
}
