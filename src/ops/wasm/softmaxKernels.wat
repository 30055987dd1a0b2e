;; Attention's softmax, forward and backward, and cross-entropy's, on a memory the module imports (tfjs-backend-wasm's
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

  ;; $exp's constants: its lower limit, log2(e), ln2's two parts, P's coefficients, 1, 1.5*2^23, 127
  (global $lo v128 (v128.const f32x4 -87.33 -87.33 -87.33 -87.33))
  (global $log2e v128 (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))
  (global $ln2hi v128 (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
  (global $ln2lo v128 (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))
  (global $p0 v128 (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
  (global $p1 v128 (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3))
  (global $p2 v128 (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3))
  (global $p3 v128 (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2))
  (global $p4 v128 (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1))
  (global $p5 v128 (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
  (global $one v128 (v128.const f32x4 1 1 1 1))
  (global $magic v128 (v128.const f32x4 12582912 12582912 12582912 12582912))
  (global $bias v128 (v128.const i32x4 127 127 127 127))

  ;; e^y for four lanes, y <= 0 (a value minus its row's max), Cephes' expf: y = k*ln2 + r with
  ;; k = nearest(y*log2(e)) and ln2 in two parts (r exact to float32), e^r = 1 + r + r^2*P(r)
  ;; (degree 5 on |r| <= ln2/2, ~1 ulp), times 2^k built in the exponent bits, (k + 127) << 23.
  ;; k is rounded by adding 1.5*2^23 (kb, whose low bits then hold k; the shift drops the rest,
  ;; so kb's bits + 127 serve for k + 127). The arithmetic runs on c = max(y, -87.33), so 2^k
  ;; stays normal and nothing overflows; lanes with y below that (e^y < 1.2e-38, masked keys
  ;; among them) are 0; NaN stays NaN. The constants are globals: none is rebuilt per call.
  (func $exp (param $y v128) (result v128)
    (local $c v128) (local $k v128) (local $kb v128) (local $r v128) (local $e v128)
    (local.set $c (f32x4.pmax (local.get $y) (global.get $lo)))
    (local.set $kb (f32x4.add (f32x4.mul (local.get $c) (global.get $log2e)) (global.get $magic)))
    (local.set $k (f32x4.sub (local.get $kb) (global.get $magic)))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $c) (f32x4.mul (local.get $k) (global.get $ln2hi)))
      (f32x4.mul (local.get $k) (global.get $ln2lo))))
    (local.set $e (f32x4.add (f32x4.mul (local.get $r) (global.get $p0)) (global.get $p1)))
    (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (global.get $p2)))
    (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (global.get $p3)))
    (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (global.get $p4)))
    (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (global.get $p5)))
    (local.set $e (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $e) (local.get $r)) (local.get $r)) (local.get $r)) (global.get $one)))
    (local.set $e (f32x4.mul (local.get $e)
      (i32x4.shl (i32x4.add (local.get $kb) (global.get $bias)) (i32.const 23))))
    (v128.andnot (local.get $e) (f32x4.lt (local.get $y) (global.get $lo))))

  ;; The bytes of row q (query i = q mod t) the kernels compute: with causal, keys j <= n - t + i
  ;; rounded up to a whole block of four (at most n); else all n keys.
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
    (local $e v128)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vscale (f32x4.splat (local.get $scale)))
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
            (local.set $y (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $j))) (local.get $acc)))
            (local.set $e (call $exp (local.get $y)))
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

  ;; Cross-entropy's softmax: p = softmax(x) over each row of n >= 4 floats (any n), and each
  ;; row's max m and sum s of e^(x - m) into stats (two floats a row; the caller forms
  ;; log-sum-exp = m + ln s). When n is not a multiple of 4 the last block is the row's last four
  ;; floats, overlapping the block before: the lanes that block already did are masked out of the
  ;; sum and keep their quotient (their e is recomputed equal, so storing it twice is harmless).
  (func (export "softmax_rows") (param $x i32) (param $p i32) (param $stats i32) (param $rows i32) (param $n i32)
    (local $q i32) (local $j i32) (local $body i32) (local $tail i32) (local $rest i32) (local $rowBytes i32)
    (local $fresh v128) (local $m v128) (local $sum v128) (local $e v128) (local $v v128)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $body (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $tail (i32.sub (local.get $rowBytes) (i32.const 16)))
    (local.set $rest (i32.and (local.get $n) (i32.const 3)))
    ;; lanes l >= 4 - rest of the last block are the row's last rest floats
    (local.set $fresh (i32x4.gt_s (v128.const i32x4 0 1 2 3) (i32x4.splat (i32.sub (i32.const 3) (local.get $rest)))))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $q) (local.get $rows)))
        ;; m, in every lane
        (local.set $m (v128.load (i32.add (local.get $x) (local.get $tail))))
        (local.set $j (i32.const 0))
        (block $d1
          (loop $l1
            (br_if $d1 (i32.ge_u (local.get $j) (local.get $body)))
            (local.set $m (f32x4.pmax (local.get $m) (v128.load (i32.add (local.get $x) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $l1)))
        (local.set $m (f32x4.pmax (local.get $m) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m))))
        (local.set $m (f32x4.pmax (local.get $m) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $m) (local.get $m))))
        ;; e = e^(x - m) into p, and s
        (local.set $sum (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $d2
          (loop $l2
            (br_if $d2 (i32.ge_u (local.get $j) (local.get $body)))
            (local.set $e (call $exp (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j))) (local.get $m))))
            (v128.store (i32.add (local.get $p) (local.get $j)) (local.get $e))
            (local.set $sum (f32x4.add (local.get $sum) (local.get $e)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $l2)))
        (if (local.get $rest)
          (then
            (local.set $e (call $exp (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $tail))) (local.get $m))))
            (v128.store (i32.add (local.get $p) (local.get $tail)) (local.get $e))
            (local.set $sum (f32x4.add (local.get $sum) (v128.and (local.get $e) (local.get $fresh))))))
        (local.set $sum (f32x4.add (local.get $sum) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $sum) (local.get $sum))))
        (local.set $sum (f32x4.add (local.get $sum) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $sum) (local.get $sum))))
        (f32.store (local.get $stats) (f32x4.extract_lane 0 (local.get $m)))
        (f32.store offset=4 (local.get $stats) (f32x4.extract_lane 0 (local.get $sum)))
        ;; p = e / s
        (local.set $j (i32.const 0))
        (block $d3
          (loop $l3
            (br_if $d3 (i32.ge_u (local.get $j) (local.get $body)))
            (v128.store (i32.add (local.get $p) (local.get $j))
              (f32x4.div (v128.load (i32.add (local.get $p) (local.get $j))) (local.get $sum)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $l3)))
        (if (local.get $rest)
          (then
            (local.set $v (v128.load (i32.add (local.get $p) (local.get $tail))))
            (v128.store (i32.add (local.get $p) (local.get $tail))
              (v128.bitselect (f32x4.div (local.get $v) (local.get $sum)) (local.get $v) (local.get $fresh)))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
        (local.set $stats (i32.add (local.get $stats) (i32.const 8)))
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
