package io.edgefleet.agent.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The bounds of the record of split answers: count, age, id length; labelled once. Time is stepped by hand. */
class SplitAnswersTest {
    Instant now = Instant.parse("2026-11-30T12:00:00Z");
    final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    };

    SplitAnswers.Answer answer() {
        return new SplitAnswers.Answer("m", "exp", "a", "1", OptionalInt.of(0), 2, now);
    }

    static int status(Runnable r) {
        try {
            r.run();
            return 202;
        } catch (FeedbackException e) {
            return e.status();
        }
    }

    @Test
    void answers_expire_after_the_ttl_and_the_oldest_go_first_beyond_the_count() {
        SplitAnswers log = new SplitAnswers(3, Duration.ofMinutes(10), clock);
        log.record("r1", answer());
        now = now.plusSeconds(300);
        log.record("r2", answer());
        log.record("r3", answer());
        log.record("r4", answer()); // over 3: r1 goes
        assertThat(log.size()).isEqualTo(3);
        assertThat(log.evicted()).isEqualTo(1);
        assertThat(status(() -> log.label("m", "r1", a -> { }))).isEqualTo(404);
        now = now.plusSeconds(599);
        assertThat(status(() -> log.label("m", "r2", a -> { }))).isEqualTo(202);
        now = now.plusSeconds(1);
        assertThat(status(() -> log.label("m", "r3", a -> { }))).as("10 minutes old: expired").isEqualTo(404);
        assertThat(log.size()).isZero();
        assertThat(log.evicted()).as("expiry is not eviction").isEqualTo(1);
    }

    @Test
    void an_answer_is_labelled_once_and_a_refused_check_leaves_it_open() {
        SplitAnswers log = new SplitAnswers(10, Duration.ofMinutes(10), clock);
        log.record("r1", answer());
        assertThatThrownBy(() -> log.label("m", "r1", a -> {
            throw new FeedbackException(400, "Invalid feedback", "no");
        })).isInstanceOf(FeedbackException.class);
        assertThat(status(() -> log.label("m", "r1", a -> { }))).isEqualTo(202);
        assertThat(status(() -> log.label("m", "r1", a -> { }))).isEqualTo(409);
        log.record("r1", answer()); // a new answer under the same id: open again
        assertThat(status(() -> log.label("m", "r1", a -> { }))).isEqualTo(202);
    }

    @Test
    void over_long_ids_are_not_recorded_and_an_ended_experiment_is_forgotten() {
        SplitAnswers log = new SplitAnswers(10, Duration.ofMinutes(10), clock);
        log.record("x".repeat(SplitAnswers.MAX_ID_LENGTH + 1), answer());
        assertThat(log.size()).isZero();
        log.record("r1", answer());
        log.forget("exp");
        assertThat(status(() -> log.label("m", "r1", a -> { }))).isEqualTo(404);
    }
}
