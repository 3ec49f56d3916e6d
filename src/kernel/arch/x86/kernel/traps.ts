// The breakpoint exception (arch/x86/kernel/traps.c do_int3): a CPU that fetches INT3 from
// kernel text traps; the text patcher's handler (poke_int3_handler, alternative.c) decides how
// it goes on. The handler is installed when alternative.c loads, as Linux wires it at boot.

/** Given the site that trapped, the first byte of the instruction to act on instead. */
type Int3Handler = (site: number) => number;

let int3_handler: Int3Handler = (site) => {
  throw new Error(`int3 at ${site}: no handler (alternative.ts not loaded)`);
};

export function set_int3_handler(fn: Int3Handler): void {
  int3_handler = fn;
}

// arch/x86/kernel/traps.c do_int3
export function do_int3(site: number): number {
  return int3_handler(site);
}
