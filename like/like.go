// Package like learns a topic from example papers: "more papers like
// these". It fits tf-idf features on the history and trains, per topic, a
// linear classifier with the topic's like papers as positives and the rest
// of the history as negatives, as arxiv-sanity-lite did with scikit-learn's
// LinearSVC. It does no I/O and keeps no global state.
//
// # Contract
//
// Words. A paper's text is its title, then its abstract (no bigram spans
// the two). Text is folded (NFKD, combining marks dropped, lower case:
// "Schrödinger" and Schr\"odinger both read "schrodinger") and split into
// words, runs of Unicode letters and digits. A word is kept when it has at
// least two runes, at most 40 bytes, is not only digits and is not an
// English function word ("the", "of", "which"; see stopwords.go). LaTeX is
// read as a reader would: commands (\alpha, \mathcal) are dropped and their
// braces' content kept, accents join their word, and inside math ($...$,
// $$...$$, \(...\), \[...\]) only words of three or more letters are kept
// (\text{softmax}), not variables, indices or numbers. Web addresses are
// dropped. The possessive and other endings after an apostrophe are
// dropped ("model's" is "model").
//
// Features. They are the words and the bigrams: pairs of kept words next
// to each other within a phrase, once function words are left out ("state
// of the art" gives "state art"); a phrase ends at . , ; : ! ? brackets,
// |, a formula or a web address. Builder.Build fits the vocabulary on the
// history: a feature must be in at least MinDF papers and at most a MaxDF
// fraction of them, and only the MaxFeatures most frequent are kept (by
// document frequency, ties by term). A paper's vector weighs each of its
// features (1 + ln tf)·idf, with idf = ln((1+n)/(1+df)) + 1 over the n
// papers of the history (scikit-learn's smooth idf), scaled to Euclidean
// norm 1, each weight stored in 16 bits (see Vector).
//
// Models. Corpus.Train trains one topic: with at least Options.MinSVM like
// papers, a linear SVM (L2-regularised, squared hinge loss, C = 0.01,
// classes weighted as scikit-learn's class_weight="balanced", a regularised
// bias) by liblinear's dual coordinate descent; unlike papers are negatives
// that weigh as much as a like paper. With fewer like papers, or when the
// history has no other paper, the model is the centroid (Rocchio): the
// mean of the like vectors less 0.2 times the mean of the unlike vectors,
// scaled to norm 1. Model.Score is w·v + b; Model.Explain gives the terms
// that weighed most for and against a paper.
//
// Stability. A Corpus depends on the set of papers only: papers are sorted
// by ID and words by their text before anything is counted, so the order
// papers are added in changes nothing. Training visits papers in an order
// drawn from a fixed seed, sums in a fixed order and rounds every product
// (no fused multiply-add), and logarithms are computed by this package
// rather than by math.Log, which may differ between architectures (see ln):
// the same history and seeds give the same scores, bit for bit, in every
// run and on every machine.
//
// Errors. NewBuilder names every option out of range. Builder.Add refuses
// a paper without an ID; Build refuses an empty history (ErrNoPapers), two
// papers with one ID, and a history where no word is frequent enough
// (ErrNoFeatures). Train refuses seeds without a like paper (ErrNoLikes),
// seeds the corpus lacks (a *MissingError naming them all), a paper both
// liked and unliked, and like papers without a word of the vocabulary
// (ErrNoWords). Nothing is logged: errors are returned, with the IDs.
//
// Costs. A Corpus keeps 4 bytes per feature of every paper (some 800 bytes
// a paper with 20,000 features) and needs about as much again while it is
// built; it is only needed to train, so a caller may keep the Vocab and the
// Models and drop it. A Model keeps 4 bytes per feature of the vocabulary
// (80 kB with the default 20,000). Training the SVM passes over the whole
// corpus a few dozen times; the centroid reads only the seeds. A paper's
// vector is made once for all models, and Score reads only its features.
// BenchmarkBuild, BenchmarkTrain and BenchmarkVectorScore measure these on
// a generated history of 100,000 papers. Corpus, Vocab and Model are
// immutable and safe for concurrent use.
package like
