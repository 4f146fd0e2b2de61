package like

import "strings"

// tokStop is the token of every stop word in the dictionaries, and -1 that
// of a word outside the vocabulary.
const tokStop = -2

// push appends the token t of a word to a paper's tokens toks, -1 standing
// between phrases: a stop word is left out but, unlike a word outside the
// vocabulary, does not part the words around it. joined is the scanner's.
func push(toks []int32, t int32, joined bool) []int32 {
	if !joined && len(toks) > 0 && toks[len(toks)-1] != -1 {
		toks = append(toks, -1)
	}
	if t == tokStop {
		return toks
	}
	return append(toks, t)
}

// stopWords are English function words: they say nothing about a paper's
// topic, and bigrams are read across them ("state of the art" gives the
// bigram "state art"). The list holds no content words, unlike some common
// lists that drop "system", "computer" or "few" (as in "few-shot"); words
// that are merely frequent in abstracts ("model", "propose", "results") are
// left to the document-frequency cut-off, which measures them on the
// history itself.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(stopWordList) {
		m[w] = true
	}
	return m
}()

const stopWordList = `
about above across after afterwards again against all almost alone along
already also although always am among amongst an and another any anyhow
anyone anything anyway anywhere are around as at be became because become
becomes becoming been before beforehand behind being below beside besides
between beyond both but by can cannot could did do does doing done down
due during each eg either else elsewhere enough especially et al etc even
ever every everyone everything everywhere except for from further
furthermore had has have having he hence her here hereby herein hers
herself him himself his how however ie if in indeed into is it its itself
just less let lets may me meanwhile might mine more moreover most
mostly much must my myself namely neither never nevertheless no nobody
none noone nor not nothing now nowhere of off often on once only onto or
other others otherwise our ours ourselves out over own per perhaps quite
rather really same several shall she should since so some somehow someone
something sometime sometimes somewhat somewhere still such than that the
their theirs them themselves then thence there thereafter thereby
therefore therein thereof these they this those though through throughout
thru thus to together too toward towards under unless until up upon us
very via was we well were what whatever when whence whenever where
whereas whereby wherein whether which while whither who whoever whom
whose why will with within without would yet you your yours yourself
yourselves
`
