package io.edgefleet.transport.signing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Runs {@link SigningBenchmark} and prints its ratio; asserts only that it measured (times are never asserted). */
class SigningBenchmarkTest {
    @Test
    void prints_the_cost_of_signing_and_verifying_against_the_unsigned_path() {
        String line = SigningBenchmark.run(Integer.getInteger("signing.bench.messages", 2_000));
        System.out.println(line);
        assertThat(line).contains("signed/unsigned ratio");
    }
}
