package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// measuring holds the readings taken when the measured phase (publishing and
// waiting) starts.
type measuring struct {
	pids      []int
	start     time.Time
	cpu0      []time.Duration
	cpuErrs   []error
	write0    []int64
	writeErrs []error
	self0     time.Duration
	sampler   *rssSampler

	// dbPIDs are the database server processes of --db-pid, measured with
	// their descendants (ProcTreeCPU).
	dbPIDs []int
	db0    time.Duration
	dbErr  error

	scrape      func(context.Context) (Counters, error) // the servers' /metrics
	counters0   Counters
	countersErr error
}

func startMeasuring(ctx context.Context, pids, dbPIDs []int, scrape func(context.Context) (Counters, error)) *measuring {
	n := len(pids)
	m := &measuring{pids: pids, cpu0: make([]time.Duration, n), cpuErrs: make([]error, n),
		write0: make([]int64, n), writeErrs: make([]error, n), scrape: scrape, dbPIDs: dbPIDs}
	m.counters0, m.countersErr = scrape(ctx)
	for i, pid := range pids {
		m.cpu0[i], m.cpuErrs[i] = ProcCPU(pid)
		m.write0[i], m.writeErrs[i] = ProcWriteBytes(pid)
	}
	if len(dbPIDs) > 0 {
		m.db0, _, m.dbErr = ProcTreeCPU(dbPIDs...)
	}
	m.self0, _ = ProcCPU(os.Getpid())
	m.start = time.Now()
	m.sampler = startRSSSampler(pids)
	return m
}

// finish reads what the servers used since start, and their memory peaks,
// into rep.
func (m *measuring) finish(ctx context.Context, rep *Report, delivered int64) {
	sampled := m.sampler.finish()
	s := &rep.Server
	if len(m.pids) == 0 {
		s.MeasurementErrors = append(s.MeasurementErrors, "no server process known (give --server-pid with --target): server CPU, memory and disk writes not measured")
	}
	var written int64
	writesKnown, cpuKnown := len(m.pids) > 0, len(m.pids) > 0
	for i, pid := range m.pids {
		n := NodeResult{PID: pid, MaxSampledRSS: sampled[pid]}
		cpu1, err := ProcCPU(pid)
		if err = errors.Join(m.cpuErrs[i], err); err != nil {
			s.MeasurementErrors = append(s.MeasurementErrors, fmt.Sprintf("CPU of process %d: %v", pid, err))
			cpuKnown = false
		} else {
			n.CPUSeconds = (cpu1 - m.cpu0[i]).Seconds()
		}
		if _, hwm, err := ProcMemory(pid); err != nil {
			s.MeasurementErrors = append(s.MeasurementErrors, fmt.Sprintf("memory of process %d: %v", pid, err))
		} else {
			n.HWMBytes = hwm
		}
		w1, err := ProcWriteBytes(pid)
		if err = errors.Join(m.writeErrs[i], err); err != nil {
			s.MeasurementErrors = append(s.MeasurementErrors, fmt.Sprintf("disk writes of process %d: %v", pid, err))
			writesKnown = false
		} else {
			w := w1 - m.write0[i]
			n.WriteBytes = &w
			written += w
		}
		s.CPUSeconds += n.CPUSeconds
		s.PeakRSSBytes = max(s.PeakRSSBytes, n.HWMBytes, n.MaxSampledRSS)
		s.Nodes = append(s.Nodes, n)
	}
	db := m.finishDatabase(rep)
	elapsed := time.Since(m.start)
	s.Seconds = round3(elapsed.Seconds())
	if writesKnown {
		s.WriteBytes = &written
	}
	perDelivery := func(cpu float64) float64 { // ms
		if delivered > 0 {
			return round3(cpu * 1000 / float64(delivered))
		}
		return 0
	}
	cores := func(cpu float64) float64 {
		if elapsed > 0 {
			return round3(cpu / elapsed.Seconds())
		}
		return 0
	}
	s.CPUMSPerDelivery = perDelivery(s.CPUSeconds)
	s.CPUCores = cores(s.CPUSeconds)
	if db != nil {
		db.CPUCores = cores(db.CPUSeconds)
		db.CPUMSPerDelivery = perDelivery(db.CPUSeconds)
		if cpuKnown { // else the sum would be the database's alone: the notes say why
			both := perDelivery(s.CPUSeconds + db.CPUSeconds)
			s.ServerAndDatabaseCPUMSPerDelivery = &both
		}
		db.CPUSeconds = round3(db.CPUSeconds)
		s.Database = db
	}
	s.CPUSeconds = round3(s.CPUSeconds)
	if self1, err := ProcCPU(os.Getpid()); err == nil {
		rep.BenchCPU = round3((self1 - m.self0).Seconds())
	}

	counters1, err := m.scrape(ctx)
	if err = errors.Join(m.countersErr, err); err != nil {
		s.MeasurementErrors = append(s.MeasurementErrors, fmt.Sprintf("delivery counters (attempts, deferred, recalled): %v", err))
		return
	}
	s.Counters = counterResult(m.counters0, counters1, elapsed)
}

// finishDatabase reads the CPU of the --db-pid processes and their
// descendants since start, or notes why it cannot: it returns nil then.
func (m *measuring) finishDatabase(rep *Report) *DatabaseResult {
	s := &rep.Server
	if len(m.dbPIDs) == 0 {
		s.MeasurementErrors = append(s.MeasurementErrors, noDatabaseNote(rep.Target.DB))
		return nil
	}
	var db1 time.Duration
	processes, err := 0, m.dbErr // a reading at the end alone is no difference
	if err == nil {
		db1, processes, err = ProcTreeCPU(m.dbPIDs...)
	}
	if err != nil {
		if runtime.GOOS != "linux" {
			err = fmt.Errorf("it is read from Linux's /proc: %w", err)
		}
		s.MeasurementErrors = append(s.MeasurementErrors, fmt.Sprintf("database CPU (--db-pid %s) could not be read: %v", pidsText(m.dbPIDs), err))
		return nil
	}
	// A process of the trees that was alive at the start and has been
	// reaped since is not in db1, but its parent's cutime and cstime now
	// hold all it used, before the start and after: the difference is
	// right (see ProcTreeCPU).
	return &DatabaseResult{PIDs: m.dbPIDs, Processes: processes, CPUSeconds: (db1 - m.db0).Seconds()}
}

// noDatabaseNote says why a run without --db-pid has no database CPU.
func noDatabaseNote(db string) string {
	if strings.HasPrefix(db, "sqlite") {
		return "database CPU not measured: SQLite works inside the server processes, so its CPU is in server CPU"
	}
	return "no database process given (--db-pid): database CPU not measured; for PostgreSQL, give the postmaster's pid, the first line of $PGDATA/postmaster.pid"
}

func pidsText(pids []int) string {
	s := make([]string, len(pids))
	for i, pid := range pids {
		s[i] = strconv.Itoa(pid)
	}
	return strings.Join(s, ",")
}

// counterResult is the change from c0 to c1 over elapsed.
func counterResult(c0, c1 Counters, elapsed time.Duration) *CounterResult {
	perMinute := func(n int64) float64 {
		if elapsed <= 0 {
			return 0
		}
		return math.Round(float64(n)/elapsed.Minutes()*10) / 10
	}
	delta := func(a, b float64) int64 { return int64(math.Round(b - a)) }
	r := &CounterResult{Attempts: map[string]int64{}, AttemptsPerMinute: map[string]float64{}}
	for outcome, v := range c1.Attempts {
		n := delta(c0.Attempts[outcome], v)
		r.Attempts[outcome], r.AttemptsPerMinute[outcome] = n, perMinute(n)
		r.AttemptsTotal += n
	}
	r.AttemptsTotalPerMinute = perMinute(r.AttemptsTotal)
	r.Deferred = delta(c0.Deferred, c1.Deferred)
	r.DeferredPerMinute = perMinute(r.Deferred)
	r.Recalled = delta(c0.Recalled, c1.Recalled)
	r.RecalledPerMinute = perMinute(r.Recalled)
	r.Held = delta(c0.Held, c1.Held)
	r.HeldPerMinute = perMinute(r.Held)
	return r
}

// rssSampler reads the resident set size of some processes every 250 ms and
// keeps the largest seen for each, between VmHWM readings that only give the
// peak since each process started.
type rssSampler struct {
	pids []int
	mu   sync.Mutex
	max  map[int]int64
	stop chan struct{}
	done chan struct{}
}

func startRSSSampler(pids []int) *rssSampler {
	s := &rssSampler{pids: pids, max: map[int]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) sample() {
	for _, pid := range s.pids {
		rss, _, err := ProcMemory(pid)
		if err != nil {
			continue // exited, or not Linux: the report says what it could read
		}
		s.mu.Lock()
		s.max[pid] = max(s.max[pid], rss)
		s.mu.Unlock()
	}
}

// finish stops sampling and returns the largest RSS seen per process.
func (s *rssSampler) finish() map[int]int64 {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}
