//! CPU time during the measurement, from Linux's `/proc` (zero elsewhere): the generator's own,
//! the server's when its process id is given, and the whole machine's, so that a run shows
//! what each side cost per flow and whether anything else was using the cores.

/// Times so far, seconds.
pub struct CpuTimes {
    generator: f64,
    server: Option<f64>,
    machine: f64,
}

/// CPU seconds used between two [`CpuTimes`].
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuUse {
    /// By this process.
    pub generator: f64,
    /// By the server process, if known.
    pub server: Option<f64>,
    /// By every process on the machine, and stolen by the hypervisor.
    pub machine: f64,
}

/// `/proc`'s unit of time (USER_HZ), fixed at 1/100 s by the kernel's ABI.
const TICKS_PER_SECOND: f64 = 100.0;

impl CpuTimes {
    /// The times now.
    pub fn now(server_pid: Option<u32>) -> CpuTimes {
        CpuTimes {
            generator: process_seconds("self").unwrap_or(0.0),
            server: server_pid.and_then(|pid| process_seconds(&pid.to_string())),
            machine: machine_seconds().unwrap_or(0.0),
        }
    }

    /// What was used from `before` to `self`.
    pub fn since(&self, before: &CpuTimes) -> CpuUse {
        CpuUse {
            generator: self.generator - before.generator,
            server: self.server.zip(before.server).map(|(now, then)| now - then),
            machine: self.machine - before.machine,
        }
    }
}

/// User and system time of every thread of process `pid`: fields 14 and 15 of
/// `/proc/PID/stat` (counted after the command name, which may hold spaces).
fn process_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    Some((ticks(11)? + ticks(12)?) / TICKS_PER_SECOND)
}

/// Every CPU's busy time: user, nice, system, irq, softirq and steal of `/proc/stat`'s `cpu` line.
fn machine_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<f64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    let busy = [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| values.get(i)).sum::<f64>();
    Some(busy / TICKS_PER_SECOND)
}
