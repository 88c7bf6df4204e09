//! The largest `select!`: 64 arms with refutable patterns compile under the
//! compiler's default recursion limit, and disabled arms are skipped.
#![cfg(not(gosched_loom))]

use gosched_sync::{chan, select};

#[test]
fn a_select_of_64_refutable_arms_compiles_and_completes_the_one_arm_left() {
    let (t0, r0) = chan::bounded::<u8>(1);
    let (t1, r1) = chan::bounded::<u8>(1);
    let (t2, r2) = chan::bounded::<u8>(1);
    let (t3, r3) = chan::bounded::<u8>(1);
    let (t4, r4) = chan::bounded::<u8>(1);
    let (t5, r5) = chan::bounded::<u8>(1);
    let (t6, r6) = chan::bounded::<u8>(1);
    let (t7, r7) = chan::bounded::<u8>(1);
    let (t8, r8) = chan::bounded::<u8>(1);
    let (t9, r9) = chan::bounded::<u8>(1);
    let (t10, r10) = chan::bounded::<u8>(1);
    let (t11, r11) = chan::bounded::<u8>(1);
    let (t12, r12) = chan::bounded::<u8>(1);
    let (t13, r13) = chan::bounded::<u8>(1);
    let (t14, r14) = chan::bounded::<u8>(1);
    let (t15, r15) = chan::bounded::<u8>(1);
    let (t16, r16) = chan::bounded::<u8>(1);
    let (t17, r17) = chan::bounded::<u8>(1);
    let (t18, r18) = chan::bounded::<u8>(1);
    let (t19, r19) = chan::bounded::<u8>(1);
    let (t20, r20) = chan::bounded::<u8>(1);
    let (t21, r21) = chan::bounded::<u8>(1);
    let (t22, r22) = chan::bounded::<u8>(1);
    let (t23, r23) = chan::bounded::<u8>(1);
    let (t24, r24) = chan::bounded::<u8>(1);
    let (t25, r25) = chan::bounded::<u8>(1);
    let (t26, r26) = chan::bounded::<u8>(1);
    let (t27, r27) = chan::bounded::<u8>(1);
    let (t28, r28) = chan::bounded::<u8>(1);
    let (t29, r29) = chan::bounded::<u8>(1);
    let (t30, r30) = chan::bounded::<u8>(1);
    let (t31, r31) = chan::bounded::<u8>(1);
    let (t32, r32) = chan::bounded::<u8>(1);
    let (t33, r33) = chan::bounded::<u8>(1);
    let (t34, r34) = chan::bounded::<u8>(1);
    let (t35, r35) = chan::bounded::<u8>(1);
    let (t36, r36) = chan::bounded::<u8>(1);
    let (t37, r37) = chan::bounded::<u8>(1);
    let (t38, r38) = chan::bounded::<u8>(1);
    let (t39, r39) = chan::bounded::<u8>(1);
    let (t40, r40) = chan::bounded::<u8>(1);
    let (t41, r41) = chan::bounded::<u8>(1);
    let (t42, r42) = chan::bounded::<u8>(1);
    let (t43, r43) = chan::bounded::<u8>(1);
    let (t44, r44) = chan::bounded::<u8>(1);
    let (t45, r45) = chan::bounded::<u8>(1);
    let (t46, r46) = chan::bounded::<u8>(1);
    let (t47, r47) = chan::bounded::<u8>(1);
    let (t48, r48) = chan::bounded::<u8>(1);
    let (t49, r49) = chan::bounded::<u8>(1);
    let (t50, r50) = chan::bounded::<u8>(1);
    let (t51, r51) = chan::bounded::<u8>(1);
    let (t52, r52) = chan::bounded::<u8>(1);
    let (t53, r53) = chan::bounded::<u8>(1);
    let (t54, r54) = chan::bounded::<u8>(1);
    let (t55, r55) = chan::bounded::<u8>(1);
    let (t56, r56) = chan::bounded::<u8>(1);
    let (t57, r57) = chan::bounded::<u8>(1);
    let (t58, r58) = chan::bounded::<u8>(1);
    let (t59, r59) = chan::bounded::<u8>(1);
    let (t60, r60) = chan::bounded::<u8>(1);
    let (t61, r61) = chan::bounded::<u8>(1);
    let (t62, r62) = chan::bounded::<u8>(1);
    let (t63, r63) = chan::bounded::<u8>(1);
    // Every channel but the last is closed: their arms are disabled.
    drop(t0);
    drop(t1);
    drop(t2);
    drop(t3);
    drop(t4);
    drop(t5);
    drop(t6);
    drop(t7);
    drop(t8);
    drop(t9);
    drop(t10);
    drop(t11);
    drop(t12);
    drop(t13);
    drop(t14);
    drop(t15);
    drop(t16);
    drop(t17);
    drop(t18);
    drop(t19);
    drop(t20);
    drop(t21);
    drop(t22);
    drop(t23);
    drop(t24);
    drop(t25);
    drop(t26);
    drop(t27);
    drop(t28);
    drop(t29);
    drop(t30);
    drop(t31);
    drop(t32);
    drop(t33);
    drop(t34);
    drop(t35);
    drop(t36);
    drop(t37);
    drop(t38);
    drop(t39);
    drop(t40);
    drop(t41);
    drop(t42);
    drop(t43);
    drop(t44);
    drop(t45);
    drop(t46);
    drop(t47);
    drop(t48);
    drop(t49);
    drop(t50);
    drop(t51);
    drop(t52);
    drop(t53);
    drop(t54);
    drop(t55);
    drop(t56);
    drop(t57);
    drop(t58);
    drop(t59);
    drop(t60);
    drop(t61);
    drop(t62);
    t63.try_send(5).unwrap();
    let got = futures::executor::block_on(async {
        select! {
            Some(v) = r0.recv() => u32::from(v),
            Some(v) = r1.recv() => u32::from(v) + 1,
            Some(v) = r2.recv() => u32::from(v) + 2,
            Some(v) = r3.recv() => u32::from(v) + 3,
            Some(v) = r4.recv() => u32::from(v) + 4,
            Some(v) = r5.recv() => u32::from(v) + 5,
            Some(v) = r6.recv() => u32::from(v) + 6,
            Some(v) = r7.recv() => u32::from(v) + 7,
            Some(v) = r8.recv() => u32::from(v) + 8,
            Some(v) = r9.recv() => u32::from(v) + 9,
            Some(v) = r10.recv() => u32::from(v) + 10,
            Some(v) = r11.recv() => u32::from(v) + 11,
            Some(v) = r12.recv() => u32::from(v) + 12,
            Some(v) = r13.recv() => u32::from(v) + 13,
            Some(v) = r14.recv() => u32::from(v) + 14,
            Some(v) = r15.recv() => u32::from(v) + 15,
            Some(v) = r16.recv() => u32::from(v) + 16,
            Some(v) = r17.recv() => u32::from(v) + 17,
            Some(v) = r18.recv() => u32::from(v) + 18,
            Some(v) = r19.recv() => u32::from(v) + 19,
            Some(v) = r20.recv() => u32::from(v) + 20,
            Some(v) = r21.recv() => u32::from(v) + 21,
            Some(v) = r22.recv() => u32::from(v) + 22,
            Some(v) = r23.recv() => u32::from(v) + 23,
            Some(v) = r24.recv() => u32::from(v) + 24,
            Some(v) = r25.recv() => u32::from(v) + 25,
            Some(v) = r26.recv() => u32::from(v) + 26,
            Some(v) = r27.recv() => u32::from(v) + 27,
            Some(v) = r28.recv() => u32::from(v) + 28,
            Some(v) = r29.recv() => u32::from(v) + 29,
            Some(v) = r30.recv() => u32::from(v) + 30,
            Some(v) = r31.recv() => u32::from(v) + 31,
            Some(v) = r32.recv() => u32::from(v) + 32,
            Some(v) = r33.recv() => u32::from(v) + 33,
            Some(v) = r34.recv() => u32::from(v) + 34,
            Some(v) = r35.recv() => u32::from(v) + 35,
            Some(v) = r36.recv() => u32::from(v) + 36,
            Some(v) = r37.recv() => u32::from(v) + 37,
            Some(v) = r38.recv() => u32::from(v) + 38,
            Some(v) = r39.recv() => u32::from(v) + 39,
            Some(v) = r40.recv() => u32::from(v) + 40,
            Some(v) = r41.recv() => u32::from(v) + 41,
            Some(v) = r42.recv() => u32::from(v) + 42,
            Some(v) = r43.recv() => u32::from(v) + 43,
            Some(v) = r44.recv() => u32::from(v) + 44,
            Some(v) = r45.recv() => u32::from(v) + 45,
            Some(v) = r46.recv() => u32::from(v) + 46,
            Some(v) = r47.recv() => u32::from(v) + 47,
            Some(v) = r48.recv() => u32::from(v) + 48,
            Some(v) = r49.recv() => u32::from(v) + 49,
            Some(v) = r50.recv() => u32::from(v) + 50,
            Some(v) = r51.recv() => u32::from(v) + 51,
            Some(v) = r52.recv() => u32::from(v) + 52,
            Some(v) = r53.recv() => u32::from(v) + 53,
            Some(v) = r54.recv() => u32::from(v) + 54,
            Some(v) = r55.recv() => u32::from(v) + 55,
            Some(v) = r56.recv() => u32::from(v) + 56,
            Some(v) = r57.recv() => u32::from(v) + 57,
            Some(v) = r58.recv() => u32::from(v) + 58,
            Some(v) = r59.recv() => u32::from(v) + 59,
            Some(v) = r60.recv() => u32::from(v) + 60,
            Some(v) = r61.recv() => u32::from(v) + 61,
            Some(v) = r62.recv() => u32::from(v) + 62,
            Some(v) = r63.recv() => u32::from(v) + 63,
        }
    });
    assert_eq!(got, 5 + 63);
}
