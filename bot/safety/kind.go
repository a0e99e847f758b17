package safety

// Kind is what a message is about, as far as safety goes: one of the
// classifier's classes.
type Kind string

// The kinds. The crisis kinds come first, then safeguarding, then the rest.
const (
	Suicidal       Kind = "suicidal"        // thoughts of suicide or self-harm
	Medical        Kind = "medical"         // a medical emergency now
	Abuse          Kind = "abuse"           // abuse of the person by a PA, relative or other
	DomesticAbuse  Kind = "domestic-abuse"  // abuse by a partner or someone they live with
	Neglect        Kind = "neglect"         // care not given; serious self-neglect
	FinancialAbuse Kind = "financial-abuse" // money, cards or benefits taken or controlled
	PAHarmed       Kind = "pa-harmed"       // a PA harassed, assaulted or threatened
	Exploitation   Kind = "exploitation"    // modern slavery, forced work, cuckooing
	Medicines      Kind = "medicines"       // medicines withheld, misused or taken by others
	Requested      Kind = "requested"       // an explicit request for a person
	Dispute        Kind = "dispute"         // a disagreement to challenge
	Situation      Kind = "situation"       // someone describing their situation of need
	OffTopic       Kind = "offtopic"        // nothing askpa covers
	Ordinary       Kind = "ordinary"        // an ordinary question
)

// Kinds lists every kind in a fixed order: the order of the classifier's
// classes and of reports.
var Kinds = [...]Kind{
	Suicidal, Medical,
	Abuse, DomesticAbuse, Neglect, FinancialAbuse, PAHarmed, Exploitation, Medicines,
	Requested, Dispute, Situation, OffTopic, Ordinary,
}

// Group is what a kind calls for.
type Group string

// The groups. Crisis and safeguarding are urgent; a request for a person
// and a dispute are normal hand-overs; the others are answered.
const (
	GroupCrisis       Group = "crisis"
	GroupSafeguarding Group = "safeguarding"
	GroupRequested    Group = "requested"
	GroupDispute      Group = "dispute"
	GroupNone         Group = ""
)

// Group returns the group k belongs to, GroupNone for situations,
// off-topic and ordinary messages.
func (k Kind) Group() Group {
	switch k {
	case Suicidal, Medical:
		return GroupCrisis
	case Abuse, DomesticAbuse, Neglect, FinancialAbuse, PAHarmed, Exploitation, Medicines:
		return GroupSafeguarding
	case Requested:
		return GroupRequested
	case Dispute:
		return GroupDispute
	}
	return GroupNone
}

// Danger reports whether k is a crisis or safeguarding kind.
func (k Kind) Danger() bool {
	g := k.Group()
	return g == GroupCrisis || g == GroupSafeguarding
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return kindIndex(k) >= 0 }

func kindIndex(k Kind) int {
	for i, x := range Kinds {
		if x == k {
			return i
		}
	}
	return -1
}

// Level is how sure Check is, and so what the person gets.
type Level int

// The levels, least to most serious.
const (
	// LevelNone: the plain answer.
	LevelNone Level = iota
	// LevelCaution: moderately sure of a crisis or safeguarding kind: the
	// kind's signposting line, the answer, and a prominent way to a person.
	LevelCaution
	// LevelHandOver: a request for a person or a dispute: a normal
	// hand-over.
	LevelHandOver
	// LevelUrgent: very sure of a crisis or safeguarding kind: the kind's
	// script and an urgent hand-over, never an unrelated answer.
	LevelUrgent
)

// String returns the level's name as used in JSON and logs.
func (l Level) String() string {
	switch l {
	case LevelCaution:
		return "caution"
	case LevelHandOver:
		return "hand-over"
	case LevelUrgent:
		return "urgent"
	}
	return "none"
}

// Verdict is what Check makes of a message.
type Verdict struct {
	// Kind is the most likely kind; for a danger verdict, the most likely
	// danger kind.
	Kind  Kind
	Level Level
	// Probability is the classifier's probability of Kind's group (for
	// danger kinds) or of Kind itself.
	Probability float64
	// Danger is the probability that the message is about crisis or
	// safeguarding at all.
	Danger float64
	// Also is a second danger kind nearly as likely as Kind (at least half
	// as), whose signposting line should go with the reply; empty when
	// there is none.
	Also Kind
	// Self is true when the person at risk seems to be the writer
	// themselves ("he hits me"), false when it is someone else ("my mum's
	// carer hits her"). It chooses the words of the reply.
	Self bool
	// By says which layer decided: "rule" (a precise rule), "model" or
	// "conversation" (the model, on the last few messages together).
	By string
}

// Group returns the group of v's kind.
func (v Verdict) Group() Group { return v.Kind.Group() }

// Urgent reports whether v calls for an urgent hand-over.
func (v Verdict) Urgent() bool { return v.Level == LevelUrgent }
