package io.kvx.node.runtime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class OomWatcherTest {

  @Test
  void findsTheKilledTasksCgroupInKernelLogRecords() {
    assertEquals("/kvx/42832085-hog-0", OomWatcher.taskMemcg("6,12001,20195063139,-;oom-kill:constraint=CONSTRAINT_MEMCG,"
        + "nodemask=(null),cpuset=42832085-hog-0,mems_allowed=0,oom_memcg=/kvx/42832085-hog-0,"
        + "task_memcg=/kvx/42832085-hog-0,task=sort,pid=19024,uid=0\n"));
    assertNull(OomWatcher.taskMemcg("4,11921,20195041206,-;sort invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL)\n"));
    assertNull(OomWatcher.taskMemcg("6,10050,17454381117,-;kvxt3: port 2(vethc3ac0bd0) entered disabled state\n"));
  }
}
