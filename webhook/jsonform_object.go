package webhook

import (
	"bytes"
	"cmp"
	"slices"
)

// jsEntry is one member of a rewritten object: the key of member pos (its first
// occurrence) with the value of member val (its last).
type jsEntry struct {
	index    int64
	pos, val int32
}

// finishObject gives the object written at out[objStart:] JavaScript's member
// order: JSON.parse keeps one property per key, where the key first appeared,
// holding the last value; JSON.stringify lists array-index keys first, in
// ascending order. Keys are compared as written in out, which is fine because
// JSON.stringify writes each string in exactly one way.
func (p *jsParser) finishObject(objStart int, ms []jsMember, anyIndex bool) {
	n := len(ms)
	if n < 2 {
		return
	}
	first := slices.Grow(p.first[:0], n)[:n]
	p.first = first
	dup := p.findDuplicates(ms, first)
	if !dup && !anyIndex {
		return
	}

	last := first // reused: once first[i] is read, last[j] for j ≤ i may be written
	entries := p.entries[:0]
	for i := range ms {
		f := first[i]
		if int(f) == i {
			entries = append(entries, jsEntry{index: ms[i].index, pos: int32(i)})
		}
		last[f] = int32(i)
	}
	for k := range entries {
		entries[k].val = last[entries[k].pos]
	}
	slices.SortFunc(entries, jsCompareEntries)
	p.entries = entries

	buf := append(p.buf[:0], '{')
	for k, e := range entries {
		if k > 0 {
			buf = append(buf, ',')
		}
		key, val := ms[e.pos], ms[e.val]
		buf = append(buf, p.out[key.start:key.colon+1]...)
		buf = append(buf, p.out[val.colon+1:val.end]...)
	}
	buf = append(buf, '}')
	p.buf = buf
	p.out = append(p.out[:objStart], buf...)
}

// findDuplicates sets first[i] to the position of the first member with the key
// of member i and reports whether any key repeats.
func (p *jsParser) findDuplicates(ms []jsMember, first []int32) bool {
	key := func(i int) []byte { return p.out[ms[i].start:ms[i].colon] }
	dup := false
	if len(ms) <= 8 {
		for i := range ms {
			first[i] = int32(i)
			for j := range i {
				if int(first[j]) == j && bytes.Equal(key(j), key(i)) {
					first[i], dup = int32(j), true
					break
				}
			}
		}
		return dup
	}
	// Open addressing over a table of 2..4 times the members, holding position+1.
	size := 16
	for size < 2*len(ms) {
		size *= 2
	}
	table := slices.Grow(p.entries[:0], size)[:size] // borrowed; finishObject refills it after
	clear(table)
	for i := range ms {
		k := key(i)
		h := uint32(2166136261)
		for _, c := range k {
			h = (h ^ uint32(c)) * 16777619
		}
		first[i] = int32(i)
		for slot := int(h) & (size - 1); ; slot = (slot + 1) & (size - 1) {
			j := int(table[slot].pos) - 1
			if j < 0 {
				table[slot].pos = int32(i + 1)
				break
			}
			if bytes.Equal(key(j), k) {
				first[i], dup = int32(j), true
				break
			}
		}
	}
	p.entries = table
	return dup
}

// jsCompareEntries orders array-index keys first by value, the others by position.
func jsCompareEntries(a, b jsEntry) int {
	switch {
	case a.index >= 0 && b.index >= 0:
		return cmp.Compare(a.index, b.index)
	case a.index >= 0:
		return -1
	case b.index >= 0:
		return 1
	}
	return cmp.Compare(a.pos, b.pos)
}
