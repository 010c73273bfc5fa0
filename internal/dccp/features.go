package dccp

import (
	"bytes"

	"github.com/teardown-lab/teardown/internal/wire"
)

// featSendLossEventRate is CCID 3's Send Loss Event Rate feature (RFC
// 4342 §8.4): a server-priority feature whose only sensible value is 1
// (the receiver sends Loss Event Rate options, which ours always does).
// Linux 6.1 sends Mandatory Change L and Change R of it when CCID 3 is
// offered; not knowing it would answer with Reset (Mandatory Error).
const featSendLossEventRate wire.DCCPFeature = 192

// numFeatures bounds the feature slots this core knows: the features 1-9
// of RFC 4340 §6.4 at their own numbers, and slotSendLossEventRate.
const (
	slotSendLossEventRate = 10
	numFeatures           = 11
)

// slot returns the slot of feature f, or -1 for a feature this core does
// not know.
func slot(f wire.DCCPFeature) int {
	switch {
	case f >= 1 && f <= 9:
		return int(f)
	case f == featSendLossEventRate:
		return slotSendLossEventRate
	}
	return -1
}

// featureOf is slot's inverse.
func featureOf(i int) wire.DCCPFeature {
	if i == slotSendLossEventRate {
		return featSendLossEventRate
	}
	return wire.DCCPFeature(i)
}

// kind is the reconciliation rule of a known feature (RFC 4340 §6.3;
// RFC 4342 §8.4 for Send Loss Event Rate, server-priority).
func kind(f wire.DCCPFeature) wire.DCCPFeatureKind {
	if f == featSendLossEventRate {
		return wire.DCCPServerPriority
	}
	return f.Kind()
}

// featureSet is the feature negotiation state of one end (RFC 4340 §6).
// A feature "located at" an end is called local here (changed by our
// Change L, the peer's Change R); the peer's is remote.
type featureSet struct {
	isServer bool
	local    [numFeatures]uint64
	remote   [numFeatures]uint64
	// prefs are our preference lists for server-priority features.
	prefs [numFeatures][]byte
	// change[f][0] / [1]: our Change L / Change R of f awaits its
	// Confirm; it is resent on every packet until then (§6.6.3).
	change    [numFeatures][2]bool
	mandatory [numFeatures][2]bool
	// nnOffer is the value our pending Change L of an NN feature offers;
	// the feature keeps its old value until the Confirm echoes this one
	// (§6.6.1; §6.3.2: the Confirm carries the value).
	nnOffer [numFeatures]uint64
	// confirms are the Confirms owed for Changes received, sent once on
	// the next packet (the peer resends its Change if it is lost).
	confirms Options
}

// initial values of §6.4, Table 4.
var featureDefaults = [numFeatures]uint64{
	wire.DCCPFeatCCID: 2, wire.DCCPFeatSequenceWindow: 100, wire.DCCPFeatAckRatio: 2,
}

func (fs *featureSet) init(server bool, cfg *Config) {
	fs.isServer = server
	fs.local, fs.remote = featureDefaults, featureDefaults
	other := byte(3)
	if cfg.CCID == 3 {
		other = 2
	}
	fs.prefs = [numFeatures][]byte{
		wire.DCCPFeatCCID:              {cfg.CCID, other},
		wire.DCCPFeatAllowShortSeqnos:  {0, 1},
		wire.DCCPFeatECNIncapable:      {1, 0}, // this core never sets ECT
		wire.DCCPFeatSendAckVector:     {1, 0},
		wire.DCCPFeatSendNDPCount:      {0, 1},
		wire.DCCPFeatMinChecksumCov:    {0},
		wire.DCCPFeatCheckDataChecksum: {0, 1},
		slotSendLossEventRate:          {1, 0},
	}
	fs.local[wire.DCCPFeatSequenceWindow] = cfg.SequenceWindow
}

// offerClient queues the Changes of a client's Request, shaped like
// Linux 6.1's so that a Linux server accepts it (docs/peer-facts.md): Change L
// and Change R (CCID), Mandatory Change L (Allow Short Seqnos = 0),
// Mandatory Change L (ECN Incapable = 1).
func (fs *featureSet) offerClient(cfg *Config) {
	fs.change[wire.DCCPFeatCCID] = [2]bool{true, true}
	fs.change[wire.DCCPFeatAllowShortSeqnos][0] = true
	fs.mandatory[wire.DCCPFeatAllowShortSeqnos][0] = true
	fs.change[wire.DCCPFeatECNIncapable][0] = true
	fs.mandatory[wire.DCCPFeatECNIncapable][0] = true
	if cfg.CCID == 3 {
		fs.askNDPCount()
	}
	if cfg.SequenceWindow != featureDefaults[wire.DCCPFeatSequenceWindow] {
		fs.change[wire.DCCPFeatSequenceWindow][0] = true
		fs.nnOffer[wire.DCCPFeatSequenceWindow] = cfg.SequenceWindow
	}
}

// askNDPCount asks the peer to send NDP Count options (Change R(Send NDP
// Count, 1), RFC 4340 §7.7.2): a CCID 3 receiver needs them to tell the
// gaps left by non-data packets from lost data (RFC 4340 §7.7.1, RFC
// 4342 §6.1; Linux asks so too when CCID 3 is offered). The client asks
// when it prefers CCID 3, the server when the client's sender will run
// CCID 3 and has not offered it. Not Mandatory: a peer that refuses
// leaves the receiver counting every gap, as before.
func (fs *featureSet) askNDPCount() {
	if fs.remote[wire.DCCPFeatSendNDPCount] != 1 {
		fs.change[wire.DCCPFeatSendNDPCount][1] = true
	}
}

// changeLocalNN asks the peer to accept value v of our NN feature f (a
// Change L, §6.3.2), as RFC 4340 §7.5.2 asks endpoints to do with the
// Sequence Window as the connection progresses. The Change is resent on
// every packet until confirmed; a newer value replaces an unconfirmed
// one. It reports whether a new Change is now pending.
func (fs *featureSet) changeLocalNN(f wire.DCCPFeature, v uint64) bool {
	i := slot(f)
	pending := fs.change[i][0]
	if (pending && fs.nnOffer[i] == v) || (!pending && fs.local[i] == v) {
		return false
	}
	fs.change[i][0], fs.mandatory[i][0], fs.nnOffer[i] = true, false, v
	return true
}

// changeValues returns what our Change of f offers.
func (fs *featureSet) changeValues(f wire.DCCPFeature, buf []byte) []byte {
	i := slot(f)
	switch f {
	case wire.DCCPFeatAllowShortSeqnos:
		return append(buf, 0)
	case wire.DCCPFeatECNIncapable, wire.DCCPFeatSendNDPCount:
		return append(buf, 1)
	}
	if kind(f) == wire.DCCPNonNegotiable {
		return fs.nnBytes(f, fs.nnOffer[i], buf)
	}
	return append(buf, fs.prefs[i]...)
}

// appendPending adds our unconfirmed Changes and owed Confirms to o.
func (fs *featureSet) appendPending(o *Options) {
	var buf [MaxFeatureValues]byte
	for s := 1; s < numFeatures; s++ {
		f := featureOf(s)
		for i, t := range [2]wire.DCCPOptionType{wire.DCCPOptChangeL, wire.DCCPOptChangeR} {
			if fs.change[s][i] {
				o.AddFeature(t, f, fs.mandatory[s][i], fs.changeValues(f, buf[:0]))
			}
		}
	}
	for i := range fs.confirms.NFeatures {
		fo := &fs.confirms.Features[i]
		o.AddFeature(fo.Type, fo.Feature, false, fo.Vals())
	}
	fs.confirms.NFeatures = 0
}

// pending reports whether Changes await Confirms.
func (fs *featureSet) pending() bool {
	for _, c := range fs.change {
		if c[0] || c[1] {
			return true
		}
	}
	return false
}

// serverPriority reconciles two preference lists by the server-priority
// rule of §6.3.1: the first value in the server's list that also appears
// in the client's list; ok is false when they share none.
func serverPriority(server, client []byte) (v byte, ok bool) {
	for _, s := range server {
		if bytes.IndexByte(client, s) >= 0 {
			return s, true
		}
	}
	return 0, false
}

// process applies the feature options of a received packet (§6.6) and
// returns the Reset code the packet draws, or 0.
func (fs *featureSet) process(o *Options, counters *Counters) wire.DCCPResetCode {
	for i := range o.NFeatures {
		fo := &o.Features[i]
		var code wire.DCCPResetCode
		if fo.Type.IsChange() {
			counters.FeatureChanges++
			code = fs.onChange(fo)
		} else {
			counters.Confirms++
			code = fs.onConfirm(fo)
		}
		if code != 0 {
			return code
		}
	}
	return 0
}

// onChange answers a Change L (the feature is the peer's) or Change R
// (the feature is ours) with the matching Confirm (§6.2, §6.3).
func (fs *featureSet) onChange(fo *FeatureOption) wire.DCCPResetCode {
	f := fo.Feature
	peerLocated := fo.Type == wire.DCCPOptChangeL
	confirm := wire.DCCPOptConfirmL
	if peerLocated {
		confirm = wire.DCCPOptConfirmR
	}
	si := slot(f)
	if si < 0 { // unknown: empty Confirm (§6.6.7)
		if fo.Mandatory {
			return wire.DCCPResetMandatoryError
		}
		fs.owe(confirm, f, nil)
		return 0
	}
	val := &fs.local[si]
	if peerLocated {
		val = &fs.remote[si]
	}
	if kind(f) == wire.DCCPNonNegotiable { // §6.3.2: the location decides
		if peerLocated && f == wire.DCCPFeatSequenceWindow && !validSeqWindow(fo) {
			// §7.5.2 bounds it to [Wmin, Wmax]; a window of 0 would make
			// every packet of the peer invalid. Like an unknown value
			// (Linux answers so): an empty Confirm, or Reset if Mandatory.
			if fo.Mandatory {
				return wire.DCCPResetMandatoryError
			}
			fs.owe(confirm, f, nil)
			return 0
		}
		if peerLocated {
			*val = fo.nn()
		}
		var b [MaxFeatureValues]byte
		fs.owe(confirm, f, fs.nnBytes(f, *val, b[:0]))
		return 0
	}
	server, client := fs.prefs[si], fo.Vals()
	if !fs.isServer {
		server, client = client, server
	}
	v, ok := serverPriority(server, client)
	if !ok {
		if fo.Mandatory { // §6.6.9: a Mandatory Change that cannot be agreed
			return wire.DCCPResetMandatoryError
		}
		v = byte(*val) // §6.3.1: no shared value, the old value stays
	}
	*val = uint64(v)
	var b [MaxFeatureValues]byte
	vals := append(append(b[:0], v), fs.prefs[si]...)
	fs.owe(confirm, f, vals[:min(len(vals), MaxFeatureValues)])
	return 0
}

// owe queues a Confirm for the next packet. A Confirm already owed for
// the same feature is replaced in place, not repeated: a peer resends an
// unconfirmed Change on every packet (§6.6.3), and between two of our
// packets it may send many, each answered by the latest value; stacking
// a Confirm per Change grew a data packet's options past its header room
// (HeaderRoom), so the packet no longer fit the link.
func (fs *featureSet) owe(t wire.DCCPOptionType, f wire.DCCPFeature, vals []byte) {
	for i := range fs.confirms.NFeatures {
		if fo := &fs.confirms.Features[i]; fo.Type == t && fo.Feature == f {
			fo.N = uint8(copy(fo.Values[:], vals))
			return
		}
	}
	fs.confirms.AddFeature(t, f, false, vals)
}

// validSeqWindow reports whether a Sequence Window option holds a value
// within §7.5.2's bounds, in at most the feature's 6 bytes.
func validSeqWindow(fo *FeatureOption) bool {
	v := fo.nn()
	return fo.N > 0 && fo.N <= 6 && v >= minSeqWindow && v <= maxSeqWindow
}

// nnBytes encodes an NN value in the feature's width.
func (fs *featureSet) nnBytes(f wire.DCCPFeature, v uint64, b []byte) []byte {
	w := f.NNWidth()
	for i := w - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// onConfirm completes one of our Changes: Confirm R answers our Change L,
// Confirm L our Change R (§6.2). A Confirm we did not ask for is ignored.
func (fs *featureSet) onConfirm(fo *FeatureOption) wire.DCCPResetCode {
	f := fo.Feature
	si := slot(f)
	if si < 0 {
		return 0
	}
	idx, val := 0, &fs.local[si]
	if fo.Type == wire.DCCPOptConfirmL {
		idx, val = 1, &fs.remote[si]
	}
	if !fs.change[si][idx] {
		return 0
	}
	if kind(f) == wire.DCCPNonNegotiable && fo.N > 0 {
		// The Confirm of an older Change (the value changed again within
		// a round trip) does not end the newer one.
		if v := fo.nn(); v == fs.nnOffer[si] {
			fs.change[si][idx], *val = false, v
		}
		return 0
	}
	fs.change[si][idx] = false
	if fo.N == 0 { // empty Confirm: the peer does not know f (§6.6.7)
		return 0
	}
	chosen := fo.Values[0]
	var b [MaxFeatureValues]byte
	if bytes.IndexByte(fs.changeValues(f, b[:0]), chosen) < 0 {
		return wire.DCCPResetOptionError // §6.6.8: a value we never offered
	}
	*val = uint64(chosen)
	return 0
}
