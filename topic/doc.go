// Package topic decides which topics take which paper, and why. It is pure:
// no I/O, no clock, no logging.
//
// # Contract
//
// Compile checks and compiles every configured topic (Spec) once into a
// Router; Route then returns, for one paper, the topics that take it in spec
// order, each with the terms that matched (they become the feed item's
// categories). Take answers the same for one topic, and Explain tells for
// one topic and one paper which terms matched in which field. Len is the
// number of topics. A Router is immutable and safe for concurrent use.
//
// A topic takes a paper when all of these hold:
//
//   - it has no keywords, or any keyword matches;
//   - no exclude keyword matches;
//   - its query, if it has one, holds;
//   - the paper's upvotes are >= min_upvotes.
//
// # Words
//
// Text (a field of the paper, a keyword or a query term) is normalised to
// NFKC and case-folded (then NFKC again, since folding can leave text NFKC
// would compose, and Cherokee folds to upper case as Unicode says), then
// split into words: maximal runs of Unicode
// letters, digits and non-spacing combining marks (category Mn, so "naïve"
// written with a combining diaeresis is still one word). Everything else
// separates words. So "Score-Matching" is the words "score" "matching",
// full-width "ＤＩＦＦＵＳＩＯＮ" is "diffusion" and the ligature in "ﬁlter" becomes
// "filter".
//
// A keyword (or query term) is split the same way and matches where its
// words occur consecutively, whole, inside ONE field value: the title, or
// the abstract, never across the two. A trailing * makes its last word a
// prefix. So:
//
//	filter        takes "filter", not "filtering"
//	score matching  takes "score-matching" and "Score Matching"
//	denois*       takes "denoise", "denoising", "denoiser"
//
// A keyword with no words at all ("", "--", "*") is a Compile error.
//
// # Query language
//
// A topic may also have a query; it must hold besides the keywords and
// excludes. Grammar (operators are upper case only; "and", "or", "not" are
// plain words):
//
//	query   = or
//	or      = and { "OR" and }
//	and     = unary { [ "AND" ] unary }      juxtaposition is AND
//	unary   = ( "NOT" | "-" ) unary | primary
//	primary = "(" or ")"
//	        | field ":" unary                the field applies to every term inside
//	        | numfield ":" [ op ] integer    op is > >= < <= = (= when left out)
//	        | word | '"' phrase '"' | "/" regex "/"
//	field    = title | abstract | author | category | source | id
//	numfield = upvotes | comments | stars    (stars is the GitHub stars)
//
// Precedence: NOT binds tightest, then AND, then OR; parentheses group. A
// word is a run of characters other than space, parentheses and quotes; a
// leading "-" is NOT. A word "name:..." whose name is all letters is a field;
// quote the term to search for such text ("re:invent").
//
// Terms and phrases follow the keyword rules above: `diffusion`,
// `"classifier-free guidance"`, prefix `denois*` or `"large language
// model*"`. Without a field a term searches the title and the abstract, each
// on its own. Fields:
//
//	title:, abstract:  that field only
//	author:            the words of each author name; a phrase never spans two authors
//	category:          each arXiv category and each AI keyword on its own; category:cs.RO
//	                   is the words "cs" "ro" consecutive, so it matches "cs.RO"
//	source:            each source name that reported the paper
//	id:                the arXiv id, whole and case-insensitive; id:2507.* is a prefix
//	upvotes:, comments:, stars:  numbers: upvotes:>=10, comments:>0, stars:>=100
//
// A regular expression /re/ (or field:/re/) is RE2 syntax (package regexp),
// case-insensitive, matched against the normalised text of each field value
// (title and abstract without a field); write \/ for a slash inside it.
//
// Examples:
//
//	diffusion AND (guidance OR sampler*) -video
//	author:"Yann LeCun" OR author:hinton
//	title:"large language model*" upvotes:>=5
//	category:cs.RO OR robot*
//	abstract:(benchmark OR dataset) NOT title:survey stars:>=100
//	title:/\bv\d+\b/ id:2606.*
//
// Query.String prints a canonical form (explicit AND/OR/NOT, the field on
// each term, normalised words) that parses back to the same String.
//
// # Matched terms
//
// Hit.Terms lists the matching keywords as written, then the query terms
// that match and are not under NOT (word and phrase terms as written, without
// field and quotes; regexes as /re/), deduplicated, in config order. Number
// comparisons and excludes are never listed.
//
// # Errors
//
// Compile errors name the topic. A query that does not parse is a
// *QueryError with the 1-based column (in runes) and the message. Its Error
// is one line, fit for a log record:
//
//	topic "robots": query: unknown field "titel" (did you mean title?) at column 1 in "titel:robot"
//
// and Caret draws the query with a caret under the column, for a terminal:
//
//	titel:robot
//	^
//
// # Evaluation
//
// Route normalises and splits the paper's fields once, then walks the
// query tree of every topic over them, in turn; nothing is indexed across
// topics. A term of one word is a lookup in the paper's words, a phrase is
// searched for in the values only when all its words are there, and a regex
// is tried only on values that hold text every match of it contains.
package topic
