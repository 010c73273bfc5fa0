package netsim

// Switch is a node that forwards each packet it receives, instantly, onto
// the link toward the host owning the packet's destination address. Hang
// several hosts off one switch to put them on a shared network; the links
// between the switch and each host carry the delays and faults.
type Switch struct {
	node
	stats SwitchStats
}

// AddSwitch adds a switch. It panics if name is already used by another
// node.
func (s *Sim) AddSwitch(name string) *Switch {
	s.checkName(name)
	sw := &Switch{}
	sw.node = node{sim: s, name: name, sw: sw}
	s.switches = append(s.switches, sw)
	s.topology++
	return sw
}

// Stats returns the switch's counters.
func (sw *Switch) Stats() SwitchStats { return sw.stats }

// forward passes on buf, a pool buffer the switch now owns.
func (sw *Switch) forward(buf []byte) {
	s := sw.sim
	dst, ok := dstAddr(buf)
	if !ok {
		sw.stats.Malformed++
		s.emit(Dropped, DropMalformed, &sw.node, nil, buf)
		s.pool.put(buf)
		return
	}
	d := sw.route(dst)
	if d == nil {
		sw.stats.NoRoute++
		s.emit(Dropped, DropNoRoute, &sw.node, nil, buf)
		s.pool.put(buf)
		return
	}
	sw.stats.Forwarded++
	d.transmit(buf, true)
}
