package directory

import (
	"regexp"
	"strings"
	"unicode"
)

// postcodeAreas are the letters that begin every UK postcode (and those of
// the Channel Islands and the Isle of Man).
var postcodeAreas = map[string]bool{}

func init() {
	for _, a := range strings.Fields(`AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW
		DA DD DE DG DH DL DN DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV
		JE KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR
		RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF
		WN WR WS WV YO ZE`) {
		postcodeAreas[a] = true
	}
}

var (
	// districtRe is an outward code: A9, A99, A9A, AA9, AA99, AA9A.
	districtRe = regexp.MustCompile(`^([A-Z]{1,2})([0-9][0-9A-Z]?)$`)
	// inwardRe is the second half of a full postcode (9AA).
	inwardRe = regexp.MustCompile(`^[0-9][A-Z]{2}$`)
)

// Area is one place a listing covers or a search asks about: a UK postcode
// district ("EX4") or a town ("Exeter").
type Area struct {
	// District is the postcode district in capitals, empty for a town.
	District string
	// Town is the town's name as written, empty for a district.
	Town string
}

// String returns the district or the town.
func (a Area) String() string {
	if a.District != "" {
		return a.District
	}
	return a.Town
}

// PostcodeArea returns the letters a district begins with ("EX" for EX4,
// "M" for M1), empty for a town.
func (a Area) PostcodeArea() string {
	if m := districtRe.FindStringSubmatch(a.District); m != nil {
		return m[1]
	}
	return ""
}

// TownKey returns the town's name folded for matching ("newton abbot"),
// empty for a district.
func (a Area) TownKey() string { return townKey(a.Town) }

func townKey(t string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.ReplaceAll(t, "-", " "))), " ")
}

// ParseArea reads one area: a postcode district ("ex4", "TQ12", "SW1A"),
// a full postcode (of which only the district is kept, "EX4 6PX" -> EX4),
// or a town name (at least three letters, with spaces, hyphens,
// apostrophes and full stops; up to 60 characters). It returns false for anything else, including a
// district whose letters are no UK postcode area ("ZZ9").
func ParseArea(s string) (Area, bool) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return Area{}, false
	}
	up := strings.ToUpper(s)
	parts := strings.Fields(up)
	if len(parts) == 2 && inwardRe.MatchString(parts[1]) {
		up = parts[0]
	} else if len(parts) == 1 && len(up) >= 5 && inwardRe.MatchString(up[len(up)-3:]) && districtRe.MatchString(up[:len(up)-3]) {
		up = up[:len(up)-3] // a postcode typed without its space
	}
	if m := districtRe.FindStringSubmatch(up); m != nil {
		if !postcodeAreas[m[1]] {
			return Area{}, false
		}
		return Area{District: up}, true
	}
	if len(s) > 60 {
		return Area{}, false
	}
	letters := 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case r == ' ' || r == '-' || r == '\'' || r == '.' || r == '’':
		default:
			return Area{}, false
		}
	}
	if letters < 3 {
		return Area{}, false
	}
	return Area{Town: s}, true
}
