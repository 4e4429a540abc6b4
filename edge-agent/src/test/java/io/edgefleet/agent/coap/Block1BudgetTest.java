package io.edgefleet.agent.coap;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.Test;

/** The budget of unfinished Block1 uploads, on Californium's own request objects as its receive path hands them over. */
class Block1BudgetTest {
    static final int MAX = 16 * 1024 * 1024;

    static Request firstBlock(int port, Integer size1, boolean more) {
        Request r = Request.newPost();
        r.getOptions().setUriPath("infer/dense");
        r.getOptions().setBlock1(6, more, 0);
        if (size1 != null) {
            r.getOptions().setSize1(size1);
        }
        r.setSourceContext(new AddressEndpointContext(new InetSocketAddress("127.0.0.1", port)));
        return r;
    }

    @Test
    void transfers_beyond_the_budget_get_a_one_byte_limit_and_a_finished_transfer_frees_its_share() {
        Block1Budget budget = new Block1Budget(MAX, 4L * MAX, 30_000);
        for (int port = 1000; port < 1004; port++) {
            Request r = firstBlock(port, MAX, true);
            budget.receiveRequest(r);
            assertThat(r.getMaxResourceBodySize()).as("transfer %d fits", port).isZero(); // 0: the endpoint's limit
        }
        assertThat(budget.reservedBytes()).isEqualTo(4L * MAX);
        Request fifth = firstBlock(1004, MAX, true);
        budget.receiveRequest(fifth);
        assertThat(fifth.getMaxResourceBodySize()).as("over budget: Californium answers 4.13, allocating nothing").isEqualTo(1);
        Request noSize1 = firstBlock(1005, null, true);
        budget.receiveRequest(noSize1);
        assertThat(noSize1.getMaxResourceBodySize()).as("without Size1 the whole body is reserved").isEqualTo(1);

        // the next block of an open transfer is not a new reservation
        Request second = firstBlock(1000, MAX, true);
        budget.receiveRequest(second);
        assertThat(second.getMaxResourceBodySize()).isZero();
        // a last block ends its transfer's reservation: room for one more
        budget.receiveRequest(firstBlock(1001, null, false));
        assertThat(budget.reservedBytes()).isEqualTo(3L * MAX);
        Request now = firstBlock(1006, 1024, true);
        budget.receiveRequest(now);
        assertThat(now.getMaxResourceBodySize()).isZero();
        assertThat(budget.reservedBytes()).isEqualTo(3L * MAX + 1024);
    }

    @Test
    void reservations_expire_with_the_transfers_and_a_negative_size1_is_dropped() throws Exception {
        Block1Budget budget = new Block1Budget(MAX, MAX, 1);
        budget.receiveRequest(firstBlock(2000, MAX, true));
        Thread.sleep(5); // past the 1 ms lifetime: the unfinished transfer is gone (Californium drops it too)
        Request next = firstBlock(2001, MAX, true);
        budget.receiveRequest(next);
        assertThat(next.getMaxResourceBodySize()).isZero();

        Request negative = firstBlock(2002, Integer.MIN_VALUE, true);
        new Block1Budget(MAX, 4L * MAX, 30_000).receiveRequest(negative);
        assertThat(negative.getOptions().hasSize1()).isFalse();
    }
}
