//! What Linux's `/proc` says a process used: CPU time and peak resident memory, for the benchmarks.

use std::time::Duration;

/// A process's CPU time and memory high-water mark at one moment.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    /// `utime` and `stime` from `/proc/<pid>/stat`: CPU time in user space and in the kernel, in clock
    /// ticks; they include threads that already ended.
    pub user_ticks: u64,
    pub system_ticks: u64,
    /// The same from the scheduler's nanosecond counters in `/proc/<pid>/task/*/schedstat`; finer, but
    /// it misses threads that already ended.
    pub cpu_ns: u64,
    /// `VmHWM` from `/proc/<pid>/status`: peak resident set size, in KiB.
    pub peak_rss_kib: u64,
}

impl Usage {
    pub fn of(pid: u32) -> std::io::Result<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The command name in parentheses may hold spaces: count fields after its closing parenthesis.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // Fields 14 and 15 of proc(5) are utime and stime; `fields[0]` is field 3.
        let tick = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
        let (user_ticks, system_ticks) = (tick(14).unwrap_or(0), tick(15).unwrap_or(0));

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
            user_ticks,
            system_ticks,
            cpu_ns,
            peak_rss_kib,
        })
    }
}

/// The length of one clock tick of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 Hz on Linux in practice).
pub fn clock_tick() -> Duration {
    let hz = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .filter(|&hz| hz > 0)
        .unwrap_or(100);
    Duration::from_secs(1) / hz as u32
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
