package io.edgefleet.agent.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Hostile feedback bodies (docs/ab.md "Feedback and accuracy"): each refused with a 400 naming the rule, never guessed. */
class FeedbackParseTest {
    static Feedback parse(String body) {
        return Feedback.parse(body.getBytes(StandardCharsets.UTF_8));
    }

    static void refused(String body, String detail) {
        assertThatThrownBy(() -> parse(body)).isInstanceOfSatisfying(FeedbackException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.getMessage()).contains(detail);
        });
    }

    @Test
    void a_member_given_twice_is_refused_not_the_last_one_taken() {
        refused("{\"id\": \"r1\", \"correct\": true, \"correct\": false}", "given twice");
        refused("{\"id\": \"r1\", \"label\": 1, \"label\": 2}", "given twice");
        refused("{\"id\": \"r1\", \"id\": \"r2\", \"label\": 1}", "given twice");
    }

    @Test
    void numbers_strings_and_nesting_that_are_no_label_are_refused() {
        refused("{\"id\": \"r1\", \"label\": 1.0}", "'label' must be an integer");
        refused("{\"id\": \"r1\", \"label\": NaN}", "not JSON");
        refused("{\"id\": \"r1\", \"label\": 99999999999999999999}", "'label' must be an integer");
        refused("{\"id\": \"r1\", \"label\": \"1\"}", "'label' must be an integer");
        refused("{\"id\": \"r1\", \"correct\": \"true\"}", "'correct' must be true or false");
        refused("{\"id\": \"" + "x".repeat(129) + "\", \"correct\": true}", "at most 128");
        refused("[".repeat(2000) + "]".repeat(2000), "not JSON");
        refused("{\"id\": \"r1\", \"x\": " + "[".repeat(1500) + "]".repeat(1500) + ", \"correct\": true}", "not JSON");
    }

    @Test
    void extra_members_are_ignored_and_one_of_label_or_correct_is_taken() {
        Feedback f = parse("{\"id\": \"r1\", \"label\": -1, \"note\": {\"a\": [1, 2]}}");
        assertThat(f.id()).isEqualTo("r1");
        assertThat(f.label().getAsInt()).isEqualTo(-1); // its range is the router's check (400 there)
        assertThat(parse("{\"id\": \"r1\", \"correct\": false}").correct()).contains(false);
    }
}
