package bench

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// measuring holds the resource readings taken when the load starts.
type measuring struct {
	pids    []int
	cpu0    []time.Duration
	errs    []error
	self0   time.Duration
	sampler *rssSampler
}

func startMeasuring(pids []int) *measuring {
	m := &measuring{pids: pids, cpu0: make([]time.Duration, len(pids)), errs: make([]error, len(pids))}
	for i, pid := range pids {
		m.cpu0[i], m.errs[i] = ProcCPU(pid)
	}
	m.self0, _ = ProcCPU(os.Getpid())
	m.sampler = startRSSSampler(pids)
	return m
}

// finish reads the CPU used since start and the memory peaks into rep.
func (m *measuring) finish(rep *Report, delivered int64) {
	sampled := m.sampler.finish()
	s := &rep.Server
	if len(m.pids) == 0 {
		s.MeasurementErrors = append(s.MeasurementErrors, "no server process known (give --server-pid with --target): server CPU and memory not measured")
	}
	for i, pid := range m.pids {
		n := NodeResult{PID: pid, MaxSampledRSS: sampled[pid]}
		cpu1, err := ProcCPU(pid)
		if err = errors.Join(m.errs[i], err); err != nil {
			s.MeasurementErrors = append(s.MeasurementErrors, fmt.Sprintf("CPU of process %d: %v", pid, err))
		} else {
			n.CPUSeconds = (cpu1 - m.cpu0[i]).Seconds()
		}
		if _, hwm, err := ProcMemory(pid); err != nil {
			s.MeasurementErrors = append(s.MeasurementErrors, fmt.Sprintf("memory of process %d: %v", pid, err))
		} else {
			n.HWMBytes = hwm
		}
		s.CPUSeconds += n.CPUSeconds
		s.PeakRSSBytes = max(s.PeakRSSBytes, n.HWMBytes, n.MaxSampledRSS)
		s.Nodes = append(s.Nodes, n)
	}
	if delivered > 0 {
		s.CPUMSPerDelivery = round3(s.CPUSeconds * 1000 / float64(delivered))
	}
	s.CPUSeconds = round3(s.CPUSeconds)
	if self1, err := ProcCPU(os.Getpid()); err == nil {
		rep.BenchCPU = round3((self1 - m.self0).Seconds())
	}
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
