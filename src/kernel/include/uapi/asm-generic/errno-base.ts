// Error numbers (include/uapi/asm-generic/errno-base.h and errno.h, x86-64 values), and the
// kernel-internal ENOTSUPP (include/linux/errno.h).

export const ENOENT = 2;
export const E2BIG = 7;
export const EBADF = 9;
export const ECHILD = 10;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const EMFILE = 24;
export const ENOSPC = 28;
export const EMSGSIZE = 90;
export const EOPNOTSUPP = 95;
export const ENOTSUPP = 524;
