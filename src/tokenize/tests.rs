use super::*;
use proptest::prelude::*;

fn terms(params: &TokenizerParams, text: &str) -> Vec<String> {
    params.build().unwrap().tokenize(text).into_iter().map(|t| t.term).collect()
}

fn plain() -> TokenizerParams {
    TokenizerParams { stop_words: StopList::None, stem: None, ..TokenizerParams::default() }
}

/// `check(params, input, expected)`: the terms of one quote.
fn check(params: TokenizerParams, input: &str, expected: &[&str]) {
    assert_eq!(terms(&params, input), expected, "input {input:?} with {params:?}");
}

#[test]
fn sklearn_mode_matches_python_fixture() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/fixtures/sklearn_tokens.json")).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let params = TokenizerParams {
            strip_accents: case["strip_accents"].as_bool().unwrap(),
            ..TokenizerParams::for_compat(Compat::Sklearn)
        };
        let expected: Vec<String> =
            case["tokens"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect();
        assert_eq!(terms(&params, text), expected, "text {text:?}, strip_accents {}", params.strip_accents);
    }
}

#[test]
fn default_mode_keeps_contractions_and_decimals_whole() {
    check(plain(), "I can’t stop: 3.5 days", &["can't", "stop", "3.5", "days"]);
    check(TokenizerParams { fold_apostrophes: false, ..plain() }, "can’t", &["can’t"]);
}

#[test]
fn lowercase_option() {
    check(plain(), "Peer WORKER Σοφός ΟΔΟΣ", &["peer", "worker", "σοφός", "οδος"]);
    check(TokenizerParams { lowercase: false, ..plain() }, "Peer WORKER", &["Peer", "WORKER"]);
}

#[test]
fn strip_accents_option() {
    check(plain(), "naïve café", &["naïve", "café"]);
    check(TokenizerParams { strip_accents: true, ..plain() }, "naïve café ﬁne", &["naive", "cafe", "fine"]);
}

#[test]
fn numbers_policy() {
    let text = "34 studies in 2015, 3.5 each";
    check(plain(), text, &["34", "studies", "in", "2015", "3.5", "each"]);
    check(TokenizerParams { numbers: NumberPolicy::Drop, ..plain() }, text, &["studies", "in", "each"]);
    check(
        TokenizerParams { numbers: NumberPolicy::Replace, ..plain() },
        text,
        &["<num>", "studies", "in", "<num>", "<num>", "each"],
    );
}

#[test]
fn min_len_option() {
    check(plain(), "I am a peer", &["am", "peer"]);
    check(TokenizerParams { min_len: 1, ..plain() }, "I am a peer", &["i", "am", "a", "peer"]);
    check(TokenizerParams { min_len: 4, ..plain() }, "I am a peer", &["peer"]);
}

#[test]
fn stop_word_lists() {
    let text = "I would never have thought I could help them";
    let english = TokenizerParams { stem: None, ..TokenizerParams::default() };
    check(english.clone(), text, &["never", "thought", "help"]);
    check(TokenizerParams { stop_words: StopList::Sklearn, ..english.clone() }, text, &["thought", "help"]);
    check(TokenizerParams { stop_words: StopList::Words(vec!["THOUGHT".into()]), ..plain() }, "thought it", &["it"]);
    check(TokenizerParams { extra_stop_words: vec!["help".into()], ..english.clone() }, text, &["never", "thought"]);
    check(
        TokenizerParams { stop_words: StopList::Sklearn, keep_words: vec!["never".into()], ..english.clone() },
        text,
        &["never", "thought", "help"],
    );
    // Under --compat sklearn, `english` means scikit-learn's list.
    let sk = TokenizerParams { stop_words: StopList::English, ..TokenizerParams::for_compat(Compat::Sklearn) };
    assert_eq!(sk.build().unwrap().stop_words().len(), 318);
    assert_eq!(english.build().unwrap().stop_words().len(), 174);
}

#[test]
fn typographic_apostrophes_match_stop_words() {
    check(TokenizerParams { stem: None, ..TokenizerParams::default() }, "I don’t know", &["know"]);
}

#[test]
fn ngrams_after_stop_words_by_default() {
    let params = TokenizerParams { stem: None, ngram_range: (1, 2), ..TokenizerParams::default() };
    check(params.clone(), "I was not valued by the staff", &["valued", "staff", "valued staff"]);
    let after = TokenizerParams {
        stop_words_timing: StopWordsTiming::AfterNgrams,
        keep_words: vec![],
        ngram_range: (2, 2),
        ..params
    };
    check(after, "I was not valued by the staff", &["not valued", "valued by", "the staff"]);
}

#[test]
fn ngrams_never_cross_quotes_and_join_with_one_space() {
    let tokenizer = TokenizerParams { ngram_range: (2, 3), ..plain() }.build().unwrap();
    let all = tokenizer.tokenize_all(&["peer  support", "worker role"], 1);
    let terms: Vec<Vec<&str>> = all.iter().map(|ts| ts.iter().map(|t| t.term.as_str()).collect()).collect();
    assert_eq!(terms, [vec!["peer support"], vec!["worker role"]]);
    assert_eq!((all[0][0].start, all[0][0].end), (0, 13));
}

#[test]
fn stemming_in_every_language() {
    let english = TokenizerParams { stop_words: StopList::None, ..TokenizerParams::default() };
    check(english, "helping helped relationships", &["help", "help", "relationship"]);
    let cases = [
        (Language::French, "travailleurs", "travailleur"),
        (Language::German, "Arbeitern", "arbeit"),
        (Language::Spanish, "trabajadores", "trabaj"),
        (Language::Russian, "работники", "работник"),
    ];
    for (language, word, stem) in cases {
        check(TokenizerParams { stem: Some(language), ..plain() }, word, &[stem]);
    }
}

#[test]
fn offsets_point_at_the_surface_form() {
    let text = "Naïve  ΟΔΟΣ — we’re “peers”, 3.5 days; 日本語";
    for compat in [Compat::Themata, Compat::Sklearn] {
        let params = TokenizerParams { stem: None, stop_words: StopList::None, ..TokenizerParams::for_compat(compat) };
        let tokenizer = params.build().unwrap();
        let tokens = tokenizer.tokenize(text);
        assert!(!tokens.is_empty());
        for t in tokens {
            let surface = &text[t.start..t.end];
            let mut normalised = surface.to_lowercase();
            if compat == Compat::Themata {
                normalised = normalised.replace('’', "'");
            }
            assert_eq!(normalised, t.term, "{compat:?}");
        }
    }
}

#[test]
fn same_tokens_for_any_thread_count() {
    let texts: Vec<String> = (0..3000)
        .map(|i| format!("Quote {i}: helping others helped me, said peer {} in study S{}", i * 7, i % 34))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let tokenizer = TokenizerParams { ngram_range: (1, 2), ..TokenizerParams::default() }.build().unwrap();
    let one = tokenizer.tokenize_all(&refs, 1);
    assert_eq!(one, tokenizer.tokenize_all(&refs, 2));
    assert_eq!(one, tokenizer.tokenize_all(&refs, 7));
    assert_eq!(one[5], tokenizer.tokenize(refs[5]));
}

#[test]
fn invalid_params_are_rejected() {
    let bad = |ngram_range| TokenizerParams { ngram_range, ..TokenizerParams::default() }.build().unwrap_err();
    assert_eq!(bad((0, 1)), TokenizeError::NgramRange { min_n: 0, max_n: 1 });
    assert_eq!(bad((3, 2)), TokenizeError::NgramRange { min_n: 3, max_n: 2 });
    assert_eq!(
        TokenizerParams { min_len: 0, ..TokenizerParams::default() }.build().unwrap_err(),
        TokenizeError::MinLen
    );
}

const SCRIPTS: &[&str] = &[
    "Οι ομότιμοι εργαζόμενοι βοηθούν ΑΝΘΡΩΠΟΥΣ· ΌΛΟΙ μαζί, ΐ ΰ ς σσσσ",
    "Работники поддержки помогают людям",
    "العاملون في دعم الأقران يساعدون الآخرين",
    "同伴支持工作者 ピアサポート 동료 지원",
    "peer 😀👩‍💻🏽 support ✨",
    "e\u{301}\u{302}\u{303} a\u{20DD} ग\u{94D}\u{200D}",
    "தமிழ் மொழி உதவி",
    "Türkçe İŞÇİLER ıIiİ",
];

#[test]
fn non_latin_scripts_never_panic_in_any_language() {
    let languages = [
        Language::Arabic,
        Language::Danish,
        Language::Dutch,
        Language::English,
        Language::Finnish,
        Language::French,
        Language::German,
        Language::Greek,
        Language::Hungarian,
        Language::Italian,
        Language::Norwegian,
        Language::Portuguese,
        Language::Romanian,
        Language::Russian,
        Language::Spanish,
        Language::Swedish,
        Language::Tamil,
        Language::Turkish,
    ];
    for language in languages {
        for compat in [Compat::Themata, Compat::Sklearn] {
            let params = TokenizerParams {
                stem: Some(language),
                strip_accents: true,
                ngram_range: (1, 3),
                ..TokenizerParams::for_compat(compat)
            };
            let tokenizer = params.build().unwrap();
            for text in SCRIPTS {
                for t in tokenizer.tokenize(text) {
                    assert!(t.start < t.end && text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn greek_stemming_never_panics(word in "[α-ωΑ-Ωάέήίόύώϊϋΐΰς]{1,20}") {
        let tokenizer = TokenizerParams { stem: Some(Language::Greek), ..plain() }.build().unwrap();
        let _ = tokenizer.tokenize(&word);
    }

    #[test]
    fn any_text_tokenizes_with_valid_offsets(text in any::<String>()) {
        for compat in [Compat::Themata, Compat::Sklearn] {
            let tokenizer = TokenizerParams { ngram_range: (1, 2), ..TokenizerParams::for_compat(compat) }.build().unwrap();
            for t in tokenizer.tokenize(&text) {
                prop_assert!(t.start < t.end && t.end <= text.len());
                prop_assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
            }
        }
    }
}
