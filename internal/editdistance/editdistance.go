// Package editdistance measures how far apart two words are, for matching
// misspelt words.
package editdistance

// OSA returns the optimal-string-alignment distance between a and b:
// insertions, deletions and swaps of neighbouring letters cost 1, and
// substituting one letter for another costs sub(x, y) (1 when sub is nil).
// It stops as soon as the distance must exceed limit and then returns
// limit+1.
func OSA(a, b string, limit int, sub func(x, y rune) int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := i
		for j := 1; j <= len(rb); j++ {
			cost := 0
			if ra[i-1] != rb[j-1] {
				cost = 1
				if sub != nil {
					cost = sub(ra[i-1], rb[j-1])
				}
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
