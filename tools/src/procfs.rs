//! What Linux's `/proc` says a process used: CPU time and peak resident memory, for the benchmark.

/// A process's CPU time and memory high-water mark at one moment.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    /// CPU time from the scheduler's nanosecond counters in `/proc/<pid>/task/*/schedstat`, finer than
    /// `/proc/<pid>/stat`'s clock ticks; it misses threads that already ended.
    pub cpu_ns: u64,
    /// `VmHWM` from `/proc/<pid>/status`: peak resident set size, in KiB.
    pub peak_rss_kib: u64,
}

impl Usage {
    pub fn of(pid: u32) -> std::io::Result<Self> {
        let mut cpu_ns = 0;
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))?.flatten() {
            let Ok(schedstat) = std::fs::read_to_string(task.path().join("schedstat")) else {
                continue;
            };
            cpu_ns += schedstat
                .split_whitespace()
                .next()
                .and_then(|ns| ns.parse::<u64>().ok())
                .unwrap_or(0);
        }

        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let peak_rss_kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0);
        Ok(Self {
            cpu_ns,
            peak_rss_kib,
        })
    }
}

/// This machine's CPU model and the number of CPUs the kernel offers.
pub fn machine() -> (String, usize) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            matches!(key.trim(), "model name" | "Model" | "cpu model").then(|| value.trim())
        })
        .unwrap_or("unknown CPU")
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (model, cores)
}
