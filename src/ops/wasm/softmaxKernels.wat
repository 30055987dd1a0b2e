;; Attention's softmax, forward and backward, on a memory the module imports (tfjs-backend-wasm's
;; heap: src/ops/wasm/heapKernels.ts instantiates it there beside heapKernels.wat). A module of its
;; own so that each stays under the 4 KB that browsers compile synchronously.
;; `npx tsx bench/reference/build-heap-wasm.ts` assembles it into softmaxKernelsWasm.ts.
;;
;; Rows are the t rows of `groups` score matrices (t, n), n a multiple of 4. With causal = 1 the
;; mask is causal or stricter (query i of the last t of n positions sees keys j <= n - t + i), so
;; only the blocks of four up to that key are computed and the rest of the row is written 0 (as
;; e^(-1e9) is): about half the work at t = n.
(module
  (import "env" "memory" (memory 1))

  ;; The last key row r of a group's row q may see, rounded up to a whole block of four (bytes).
  (func $limit (param $q i32) (param $t i32) (param $n i32) (param $causal i32) (result i32)
    (local $lim i32)
    (if (result i32) (local.get $causal)
      (then
        ;; i = q mod t; keys j <= n - t + i, so (n - t + i + 4) & ~3 of them, at most n
        (local.set $lim (i32.and (i32.add (i32.add (i32.sub (local.get $n) (local.get $t)) (i32.rem_u (local.get $q) (local.get $t))) (i32.const 4)) (i32.const -4)))
        (i32.shl (select (local.get $lim) (local.get $n) (i32.lt_u (local.get $lim) (local.get $n))) (i32.const 2)))
      (else (i32.shl (local.get $n) (i32.const 2)))))

  ;; p = softmax(x*scale + mask) over each row of n (mask (t, n), the same for every group):
  ;; y = x*scale + mask (float32), m = max_j y, e = e^(y - m), p = e / sum_j e (the sum in float32,
  ;; four lanes then across). p is written first with y, then e, then the quotient.
  (func (export "softmax_fwd")
    (param $x i32) (param $mask i32) (param $p i32) (param $rows i32) (param $t i32) (param $n i32) (param $scale f32) (param $causal i32)
    (local $q i32) (local $j i32) (local $lim i32) (local $rowBytes i32) (local $mrow i32)
    (local $acc v128) (local $sum v128) (local $y v128) (local $vscale v128)
    (local $c v128) (local $k v128) (local $kb v128) (local $r v128) (local $e v128) (local $magic v128) (local $bias v128)
    (local $lo v128) (local $log2e v128) (local $ln2hi v128) (local $ln2lo v128)
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128) (local $p4 v128) (local $p5 v128) (local $one v128)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vscale (f32x4.splat (local.get $scale)))
    ;; e^x's constants (see the loop), in locals so that none is rebuilt per block
    (local.set $lo (f32x4.splat (f32.const -87.33)))
    (local.set $log2e (f32x4.splat (f32.const 1.44269504)))
    (local.set $ln2hi (f32x4.splat (f32.const 0.693359375)))
    (local.set $ln2lo (f32x4.splat (f32.const -2.12194440e-4)))
    (local.set $p0 (f32x4.splat (f32.const 1.9875691500e-4)))
    (local.set $p1 (f32x4.splat (f32.const 1.3981999507e-3)))
    (local.set $p2 (f32x4.splat (f32.const 8.3334519073e-3)))
    (local.set $p3 (f32x4.splat (f32.const 4.1665795894e-2)))
    (local.set $p4 (f32x4.splat (f32.const 1.6666665459e-1)))
    (local.set $p5 (f32x4.splat (f32.const 5.0000001201e-1)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $magic (f32x4.splat (f32.const 12582912)))
    (local.set $bias (i32x4.splat (i32.const 127)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $q) (local.get $rows)))
        (local.set $lim (call $limit (local.get $q) (local.get $t) (local.get $n) (local.get $causal)))
        (local.set $mrow (i32.add (local.get $mask) (i32.mul (i32.rem_u (local.get $q) (local.get $t)) (local.get $rowBytes))))
        ;; y and its running max
        (local.set $acc (v128.const f32x4 -inf -inf -inf -inf))
        (local.set $j (i32.const 0))
        (block $d1
          (loop $l1
            (br_if $d1 (i32.ge_u (local.get $j) (local.get $lim)))
            (local.set $y (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $j))) (local.get $vscale))
              (v128.load (i32.add (local.get $mrow) (local.get $j)))))
            (v128.store (i32.add (local.get $p) (local.get $j)) (local.get $y))
            (local.set $acc (f32x4.pmax (local.get $acc) (local.get $y)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $l1)))
        (local.set $acc (f32x4.pmax (local.get $acc) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $acc) (local.get $acc))))
        (local.set $acc (f32x4.pmax (local.get $acc) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $acc) (local.get $acc))))
        ;; e = e^(y - m) (m in every lane of acc) and its running sum
        (local.set $sum (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $d2
          (loop $l2
            (br_if $d2 (i32.ge_u (local.get $j) (local.get $lim)))
            ;; e^x of x = y - m <= 0, Cephes' expf: x = k*ln2 + r with k = nearest(x*log2(e)) and
            ;; ln2 in two parts (r exact to float32), e^r = 1 + r + r^2*P(r) (degree 5 on
            ;; |r| <= ln2/2, ~1 ulp), times 2^k built in the exponent bits, (k + 127) << 23. k is
            ;; rounded by adding 1.5*2^23 (kb, whose low bits then hold k; the shift drops the
            ;; rest, so kb's bits + 127 serve for k + 127). The arithmetic runs on c = max(x, -87.33),
            ;; so 2^k stays normal and nothing overflows; lanes with x below that (e^x < 1.2e-38,
            ;; masked keys among them) are 0; NaN stays NaN.
            (local.set $y (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $j))) (local.get $acc)))
            (local.set $c (f32x4.pmax (local.get $y) (local.get $lo)))
            (local.set $kb (f32x4.add (f32x4.mul (local.get $c) (local.get $log2e)) (local.get $magic)))
            (local.set $k (f32x4.sub (local.get $kb) (local.get $magic)))
            (local.set $r (f32x4.sub (f32x4.sub (local.get $c) (f32x4.mul (local.get $k) (local.get $ln2hi)))
              (f32x4.mul (local.get $k) (local.get $ln2lo))))
            (local.set $e (f32x4.add (f32x4.mul (local.get $r) (local.get $p0)) (local.get $p1)))
            (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $p2)))
            (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $p3)))
            (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $p4)))
            (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $p5)))
            (local.set $e (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $e) (local.get $r)) (local.get $r)) (local.get $r)) (local.get $one)))
            (local.set $e (f32x4.mul (local.get $e)
              (i32x4.shl (i32x4.add (local.get $kb) (local.get $bias)) (i32.const 23))))
            (local.set $e (v128.andnot (local.get $e) (f32x4.lt (local.get $y) (local.get $lo))))
            (v128.store (i32.add (local.get $p) (local.get $j)) (local.get $e))
            (local.set $sum (f32x4.add (local.get $sum) (local.get $e)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $l2)))
        (local.set $sum (f32x4.add (local.get $sum) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $sum) (local.get $sum))))
        (local.set $sum (f32x4.add (local.get $sum) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $sum) (local.get $sum))))
        ;; p = e / sum, then zeros past the last key
        (local.set $j (i32.const 0))
        (block $d3
          (loop $l3
            (br_if $d3 (i32.ge_u (local.get $j) (local.get $lim)))
            (v128.store (i32.add (local.get $p) (local.get $j))
              (f32x4.div (v128.load (i32.add (local.get $p) (local.get $j))) (local.get $sum)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $l3)))
        (memory.fill (i32.add (local.get $p) (local.get $lim)) (i32.const 0) (i32.sub (local.get $rowBytes) (local.get $lim)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $row))))

  ;; The backward pass of p = softmax(x*scale + mask) over the same rows:
  ;;   ds = scale * p * (dp - d),  d = sum_j dp_j*p_j  (d in double, rounded once; the rest float32),
  ;; and with causal = 1 zeros past the last key (p is 0 there).
  (func (export "softmax_bwd")
    (param $dp i32) (param $p i32) (param $ds i32) (param $rows i32) (param $t i32) (param $n i32) (param $scale f32) (param $causal i32)
    (local $q i32) (local $j i32) (local $lim i32) (local $rowBytes i32)
    (local $acc v128) (local $pr v128) (local $d v128) (local $vscale v128)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vscale (f32x4.splat (local.get $scale)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $q) (local.get $rows)))
        (local.set $lim (call $limit (local.get $q) (local.get $t) (local.get $n) (local.get $causal)))
        ;; d: products dp_j*p_j in double, lanes 0, 1 then 2, 3 into two f64 sums
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $d1
          (loop $l1
            (br_if $d1 (i32.ge_u (local.get $j) (local.get $lim)))
            (local.set $d (v128.load (i32.add (local.get $dp) (local.get $j))))
            (local.set $pr (v128.load (i32.add (local.get $p) (local.get $j))))
            (local.set $acc (f64x2.add (local.get $acc)
              (f64x2.mul (f64x2.promote_low_f32x4 (local.get $d)) (f64x2.promote_low_f32x4 (local.get $pr)))))
            (local.set $d (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d)))
            (local.set $pr (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $pr) (local.get $pr)))
            (local.set $acc (f64x2.add (local.get $acc)
              (f64x2.mul (f64x2.promote_low_f32x4 (local.get $d)) (f64x2.promote_low_f32x4 (local.get $pr)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $l1)))
        (local.set $d (f32x4.splat (f32.demote_f64 (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))))
        (local.set $j (i32.const 0))
        (block $d2
          (loop $l2
            (br_if $d2 (i32.ge_u (local.get $j) (local.get $lim)))
            (v128.store (i32.add (local.get $ds) (local.get $j))
              (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $j)))
                (f32x4.sub (v128.load (i32.add (local.get $dp) (local.get $j))) (local.get $d))) (local.get $vscale)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $l2)))
        (memory.fill (i32.add (local.get $ds) (local.get $lim)) (i32.const 0) (i32.sub (local.get $rowBytes) (local.get $lim)))
        (local.set $dp (i32.add (local.get $dp) (local.get $rowBytes)))
        (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
        (local.set $ds (i32.add (local.get $ds) (local.get $rowBytes)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $row))))
)
