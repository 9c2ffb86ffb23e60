// Which malloc this process runs on, from the libraries mapped into it (Linux): glibc's own unless one of
// the allocators docs/reliability.md measured was preloaded (scripts/start.sh preloads tcmalloc). Read once:
// a process cannot change its allocator after it starts.
import { readFileSync } from 'node:fs';

const PRELOADABLE = ['tcmalloc', 'jemalloc', 'mimalloc'] as const;
type Allocator = (typeof PRELOADABLE)[number] | 'glibc' | 'unknown';

function detect(): Allocator {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return 'unknown'; // not Linux
  }
  return PRELOADABLE.find((name) => maps.includes(`/lib${name}`)) ?? (maps.includes('/libc.so') ? 'glibc' : 'unknown');
}

let found: Allocator | undefined;

export function mallocInUse(): Allocator {
  return (found ??= detect());
}
