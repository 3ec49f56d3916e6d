// glibc's strerror texts for the errors the simulated kernel returns (string/_strerror.c, sysdeps errlist).

const MESSAGES: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  7: 'Argument list too long',
  9: 'Bad file descriptor',
  12: 'Cannot allocate memory',
  13: 'Permission denied',
  16: 'Device or resource busy',
  22: 'Invalid argument',
  24: 'Too many open files',
  28: 'No space left on device',
  90: 'Message too long',
};

export function strerror(errnum: number): string {
  return MESSAGES[errnum] ?? `Unknown error ${errnum}`;
}
