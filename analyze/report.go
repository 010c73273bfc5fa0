package analyze

// Report is the result of analysing one capture. json.Marshal gives the
// stable JSON form; every field name is listed in its tag.
type Report struct {
	// Format is "pcap" or "pcapng".
	Format string `json:"format"`
	// Packets is the number of records in the file, skipped ones included.
	Packets int `json:"packets"`
	// StartNs is the time of the first packet, in nanoseconds since the
	// Unix epoch; every other time in the report is relative to it.
	StartNs int64 `json:"start_ns"`
	// Counts says what was not analysed, and why.
	Counts Counts `json:"counts"`
	// Connections lists every TCP and DCCP connection in the order its
	// first packet appears.
	Connections []*Connection `json:"connections"`
}

// Counts counts the packets the analyzer could not use (or used with a
// caveat). None of them stops the analysis.
type Counts struct {
	NotIP              int `json:"not_ip"`               // frames skipped before an IP packet was found: the sum of Skipped
	Truncated          int `json:"truncated"`            // IP packets cut short (by the snapshot length or the file)
	Fragments          int `json:"fragments"`            // IP fragments taken into reassembly
	Reassembled        int `json:"reassembled"`          // whole datagrams reassembled from them (analysed like any packet)
	BadIP              int `json:"bad_ip"`               // IP headers that do not parse
	OtherProtocol      int `json:"other_protocol"`       // IP packets that carry neither TCP nor DCCP
	BadTCP             int `json:"bad_tcp"`              // TCP headers that do not parse
	BadDCCP            int `json:"bad_dccp"`             // DCCP headers that do not parse
	BadChecksum        int `json:"bad_checksum"`         // IP, TCP or DCCP checksums that do not verify (offload makes these common)
	DroppedBadChecksum int `json:"dropped_bad_checksum"` // of those, dropped because Options.DropBadChecksums
	// Skipped counts the packets not analysed, by reason: a link type
	// not read ("link_type_N"), a frame that is not IP ("not_ip"), an
	// encrypted 802.11 frame, fragments that could not be reassembled
	// ("fragment_timeout" ...): the Why* reasons of analyze/decap.
	Skipped map[string]int `json:"skipped"`
	// Opened counts the headers of each encapsulation or tunnel opened
	// (vlan, mpls, pppoe, pbb, gre, erspan, vxlan, geneve, capwap,
	// ip4in4, ip6in4, ip4in6, ip6in6, ieee802_11, 6lowpan,
	// ipv6_atomic_fragment): a packet with two VLAN tags counts two.
	Opened map[string]int `json:"opened"`
}

// Connection is one TCP or DCCP connection: a 4-tuple from a SYN or
// Request (or from its first packet, when the capture started later) to
// its end.
type Connection struct {
	// ID numbers connections from 1 in order of appearance.
	ID int `json:"id"`
	// Proto is "tcp" or "dccp".
	Proto string `json:"proto"`
	// Client and Server are "address:port"; the client is the side that
	// sent the first SYN or Request.
	Client string `json:"client"`
	Server string `json:"server"`
	// RolesFrom says how the roles were decided: "handshake" (who sent the
	// first SYN or Request) or "port_guess" (no handshake was captured: the
	// side with the higher port, usually ephemeral, is called the client).
	RolesFrom string `json:"roles_from"`
	// FirstPacket and LastPacket are packet numbers; Packets counts them.
	FirstPacket int `json:"first_packet"`
	LastPacket  int `json:"last_packet"`
	Packets     int `json:"packets"`
	// StartNs and EndNs are the times of the first and last packet.
	StartNs int64 `json:"start_ns"`
	EndNs   int64 `json:"end_ns"`
	// Setup says how the connection started, Ending how it ended.
	Setup  Setup  `json:"setup"`
	Ending Ending `json:"ending"`
	// ConnState and History are Zeek's conn.log fields for a TCP
	// connection (zeek.go); Completeness is Wireshark's tcp.completeness
	// bitmask (Complete* bits). All three are absent for DCCP.
	ConnState    string `json:"conn_state,omitempty"`
	History      string `json:"history,omitempty"`
	Completeness *int   `json:"completeness,omitempty"`
	// Conntrack is Linux netfilter's view of a DCCP connection
	// (dccp_conntrack.go): the state its entry is left in and the packets
	// it marks IGNORE or INVALID. Absent for TCP.
	Conntrack *Conntrack `json:"conntrack,omitempty"`
	// ClosedFirst is "client" or "server": who sent the first FIN or RST
	// (Wireshark's fin_active side); absent when neither did.
	ClosedFirst string `json:"closed_first,omitempty"`
	// Verdict is one of the Verdict* kinds, VerdictText says it for people.
	Verdict     string `json:"verdict,omitempty"`
	VerdictText string `json:"verdict_text,omitempty"`
	// Findings are the things worth a person's attention, in packet order.
	Findings []Finding `json:"findings"`
	// ClientToServer and ServerToClient count each direction's traffic.
	ClientToServer Direction `json:"client_to_server"`
	ServerToClient Direction `json:"server_to_client"`
}

// Setup kinds.
const (
	SetupHandshake        = "handshake"         // TCP SYN, SYN-ACK, ACK; DCCP Request, Response, Ack
	SetupSimultaneousOpen = "simultaneous_open" // TCP: both sides sent SYN (RFC 9293 §3.5, figure 8)
	SetupMidStream        = "mid_stream"        // the capture started after the handshake
	SetupRefused          = "refused"           // SYN answered by RST; DCCP Request answered by Reset
	SetupUnanswered       = "unanswered"        // SYN or Request never answered (Retries counts the retransmissions)
	SetupIncomplete       = "incomplete"        // answered, but the handshake's last packet never seen
	SetupAnsweredByACK    = "answered_by_ack"   // TCP: SYN answered by an ACK of an earlier connection (the peer's TIME-WAIT), and no SYN-ACK seen
)

// Setup describes how a connection started.
type Setup struct {
	// Kind is one of the Setup* constants.
	Kind string `json:"kind"`
	// Retries counts retransmitted SYNs or Requests.
	Retries int `json:"retries"`
	// ServiceCode is the DCCP Service Code of the Request (absent for TCP).
	ServiceCode *uint32 `json:"service_code,omitempty"`
	// ResetCode names the DCCP Reset Code that refused a Request.
	ResetCode string `json:"reset_code,omitempty"`
	// Packets are the packets of the handshake.
	Packets []int `json:"packets"`
	// Summary says it in a sentence.
	Summary string `json:"summary"`
}

// Ending kinds.
const (
	EndFIN              = "fin"               // TCP: FIN both ways (Clean says whether both were acknowledged)
	EndRST              = "rst"               // TCP: ended by RST (By and State say who and in which state)
	EndHalfClosed       = "half_closed"       // TCP: one FIN only, still open the other way at the end of the capture
	EndOpen             = "open"              // no FIN, RST, Close or Reset: still open (or timed out) when the capture ended
	EndNeverEstablished = "never_established" // refused or unanswered
	EndClose            = "close"             // DCCP: Close (or CloseReq, Close) answered by Reset code Closed
	EndReset            = "reset"             // DCCP: Reset with another code, or without a Close before it
	EndClosing          = "closing"           // DCCP: Close or CloseReq sent, never answered by Reset
)

// Ending describes how a connection ended.
type Ending struct {
	// Kind is one of the End* constants.
	Kind string `json:"kind"`
	// By is "client" or "server": who sent the RST, Reset, or first FIN or
	// Close.
	By string `json:"by,omitempty"`
	// State is the TCP state of By when it sent the RST, inferred from the
	// packets seen so far (RFC 9293 spelling: ESTABLISHED, CLOSE-WAIT ...).
	State string `json:"state,omitempty"`
	// ResetCode names the DCCP Reset Code.
	ResetCode string `json:"reset_code,omitempty"`
	// Clean is true for an orderly end: FIN both ways and both
	// acknowledged, or a DCCP Close answered by Reset code Closed.
	Clean bool `json:"clean"`
	// Packets are the packets that ended the connection.
	Packets []int `json:"packets"`
	// Summary says it in a sentence.
	Summary string `json:"summary"`
}

// Finding kinds.
const (
	// FindingRSTUnreadData: RST from a host that had received data it
	// had not acknowledged, or had acknowledged but (closing with RST, not
	// FIN) evidently not read: the signature of a close with unread data
	// (RFC 2525 §2.17).
	FindingRSTUnreadData = "rst_with_unread_data"
	// FindingRSTAfterFIN: an RST following the same host's FIN (shutdown,
	// then close with unread data, or data arriving after close).
	FindingRSTAfterFIN = "rst_after_fin"
	// FindingDataAfterFIN: data sent beyond the sender's own FIN.
	FindingDataAfterFIN = "data_after_fin"
	// FindingRSTToDataAfterClose: an RST answering data that arrived
	// after the host had sent its FIN (RFC 2525 §2.17, second case).
	FindingRSTToDataAfterClose = "rst_answered_data_after_close"
	// FindingFINUnacked: a FIN the peer never acknowledged.
	FindingFINUnacked = "fin_never_acknowledged"
	// FindingClientClosedEarly: the client sent FIN and then reset the
	// connection without waiting for the server's FIN, so it cannot know
	// its data was delivered.
	FindingClientClosedEarly = "client_closed_without_waiting"
	// FindingRSTNotAcceptable: an RST answering a SYN without
	// acknowledging it, which the SYN's sender ignores (RFC 9293
	// §3.10.7.3): injected, or meant for another connection.
	FindingRSTNotAcceptable = "rst_not_acceptable"
	// FindingInvalidFlags: a SYN together with RST or FIN.
	FindingInvalidFlags = "invalid_flags"
	// FindingZeroWindow: a receiver advertised a zero window (a stall).
	FindingZeroWindow = "zero_window"
	// FindingRetransmissions: segments or packets sent again.
	FindingRetransmissions = "retransmissions"
	// FindingDCCPClosePingPong: Close (or CloseReq) repeated both ways
	// without a Reset to end it (RFC 4340 §8.3, the simultaneous-close
	// case).
	FindingDCCPClosePingPong = "dccp_close_ping_pong"
	// FindingDCCPCloseDataInFlight: a Close answered by Reset while data
	// packets were still unacknowledged.
	FindingDCCPCloseDataInFlight = "dccp_close_data_in_flight"
)

// Finding is one thing worth a person's attention.
type Finding struct {
	// Kind is one of the Finding* constants.
	Kind string `json:"kind"`
	// Summary says what happened, naming client and server.
	Summary string `json:"summary"`
	// Packets are the packet numbers involved (at most 20 are listed).
	Packets []int `json:"packets"`
	// TimeNs is the time of the packet that triggered the finding.
	TimeNs int64 `json:"t_ns"`
}

// Direction counts one direction of a connection.
type Direction struct {
	Packets         int   `json:"packets"`
	DataBytes       int64 `json:"data_bytes"`      // payload bytes, retransmissions included
	Retransmissions int   `json:"retransmissions"` // TCP segments re-sending sequence space already sent
	ZeroWindows     int   `json:"zero_windows"`    // TCP segments advertising a zero window
	BadChecksums    int   `json:"bad_checksums"`
}

// maxListed bounds the packet numbers listed in one Finding.
const maxListed = 20

// addPkt appends n to a list unless it is full.
func addPkt(list []int, n int) []int {
	if len(list) >= maxListed {
		return list
	}
	return append(list, n)
}
