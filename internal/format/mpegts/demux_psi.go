package mpegts

import (
	"bytes"
	"fmt"
	"slices"
)

// psiAssembler collects the sections of one PSI PID (the PAT or a PMT).
type psiAssembler struct {
	pid    uint16
	active bool   // buf holds the start of a section
	buf    []byte // bounded: drain consumes every complete section
	last   []byte // the last section applied, to skip repeats cheaply
}

func (d *Demuxer) handlePSI(a *psiAssembler, pusi bool, payload []byte) {
	if pusi {
		ptr := int(payload[0])
		if 1+ptr > len(payload) {
			d.psiError(a, fmt.Errorf("pointer_field %d overruns the packet", ptr))
			return
		}
		if a.active {
			a.buf = append(a.buf, payload[1:1+ptr]...)
			d.drainPSI(a)
		}
		a.buf, a.active = a.buf[:0], true
		payload = payload[1+ptr:]
	}
	if !a.active {
		return
	}
	a.buf = append(a.buf, payload...)
	d.drainPSI(a)
}

// drainPSI applies each complete section at the start of a.buf.
func (d *Demuxer) drainPSI(a *psiAssembler) {
	for a.active && len(a.buf) >= 3 {
		if a.buf[0] == 0xff { // stuffing: no more sections in this packet
			a.buf, a.active = a.buf[:0], false
			return
		}
		n := 3 + (int(a.buf[1]&0x0f)<<8 | int(a.buf[2]))
		if n > maxSectionSize {
			d.psiError(a, fmt.Errorf("section_length %d is over %d", n-3, maxSectionLength))
			a.buf, a.active = a.buf[:0], false
			return
		}
		if len(a.buf) < n {
			return
		}
		d.applySection(a, a.buf[:n])
		a.buf = a.buf[:copy(a.buf, a.buf[n:])]
	}
}

func (d *Demuxer) psiError(a *psiAssembler, err error) {
	d.stats.PSIErrors++
	d.warn(fmt.Errorf("mpegts: PSI PID 0x%x: %w", a.pid, err))
}

func (d *Demuxer) applySection(a *psiAssembler, b []byte) {
	if bytes.Equal(b, a.last) {
		return
	}
	s, err := parseSection(b)
	if err != nil {
		d.psiError(a, err)
		return
	}
	if !s.current {
		return
	}
	switch {
	case a.pid == PIDPAT && s.tableID == tableIDPAT:
		err = d.applyPAT(s)
	case a.pid != PIDPAT && s.tableID == tableIDPMT:
		err = d.applyPMT(a.pid, s)
	default:
		return // other tables (CAT, NIT, SDT...) share no PIDs we follow
	}
	if err != nil {
		d.psiError(a, err)
		return
	}
	a.last = append(a.last[:0], b...)
}

func (d *Demuxer) applyPAT(s section) error {
	entries, err := parsePAT(s.body)
	if err != nil {
		return err
	}
	programs := make([]Program, 0, len(entries))
	for _, e := range entries {
		if e.pmtPID == PIDPAT || e.pmtPID == PIDNull {
			return fmt.Errorf("PAT maps program %d to PID 0x%x", e.program, e.pmtPID)
		}
		p := Program{Number: e.program, PMTPID: e.pmtPID, PCRPID: PIDNull}
		for _, old := range d.programs {
			if old.Number == e.program && old.PMTPID == e.pmtPID {
				p = old
			}
		}
		programs = append(programs, p)
	}
	d.programs = programs
	psi := []*psiAssembler{d.psi[0]} // the PAT's own assembler stays first
	for _, p := range programs {
		if slices.ContainsFunc(psi, func(a *psiAssembler) bool { return a.pid == p.PMTPID }) {
			continue
		}
		a := d.psiFor(p.PMTPID)
		if a == nil {
			a = &psiAssembler{pid: p.PMTPID}
		}
		psi = append(psi, a)
	}
	d.psi = psi
	d.updatePES()
	return nil
}

func (d *Demuxer) applyPMT(pid uint16, s section) error {
	pcrPID, streams, err := parsePMT(s.body)
	if err != nil {
		return err
	}
	for i := range d.programs {
		p := &d.programs[i]
		if p.PMTPID == pid && p.Number == s.idExtension {
			p.PCRPID, p.Version, p.Streams = pcrPID, s.version, streams
			d.updatePES()
			return nil
		}
	}
	return nil // a program the PAT does not list
}

// updatePES makes the PES PIDs followed those of the current PMTs. A PID
// that stays with the same stream type keeps its open PES.
func (d *Demuxer) updatePES() {
	var next []*pesStream
	for _, p := range d.programs {
		for _, st := range p.Streams {
			if !carriesPES(st.Type) || d.psiFor(st.PID) != nil || st.PID == PIDNull ||
				slices.ContainsFunc(next, func(s *pesStream) bool { return s.pid == st.PID }) {
				continue
			}
			s := d.pesFor(st.PID)
			switch {
			case s == nil:
				s = &pesStream{pid: st.PID, typ: st.Type, lastCC: -1}
			case s.typ != st.Type:
				d.dropPES(s, "stream type changed")
				s.typ = st.Type
			}
			next = append(next, s)
		}
	}
	for _, s := range d.pes {
		if !slices.Contains(next, s) {
			d.dropPES(s, "stream left the PMT")
		}
	}
	d.pes = next
}

// carriesPES reports whether a stream type is carried in PES packets; a few
// carry sections instead (private sections, DSM-CC, SCTE-35 splice info),
// which the demuxer does not return as frames.
func carriesPES(t StreamType) bool {
	switch t {
	case 0x05, 0x0a, 0x0b, 0x0c, 0x0d, 0x86:
		return false
	}
	return true
}
