;; LayerNorm, forward and backward, on a memory the module imports (tfjs-backend-wasm's heap:
;; src/ops/wasm/heapKernels.ts instantiates it there beside heapKernels.wat), four floats a step.
;; Rows are c floats, c a multiple of 4 (ops/wasm/layerNorm.ts leaves other widths to tfjs ops).
;; Sums run in double, two lanes (f64x2) each for elements 0, 1 and 2, 3 of every block of four
;; (lanes 2, 3 shuffled down to be promoted), added at the end of the row; the element-wise arithmetic is float32. A module of its own so
;; that each stays under the 4 KB that browsers compile synchronously.
;; `npx tsx bench/reference/build-heap-wasm.ts` assembles it into normKernelsWasm.ts.
(module
  (import "env" "memory" (memory 1))

  ;; The sum of a f64x2's two lanes.
  (func $total (param $v v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; Forward over the rows of x (rows, c):
  ;;   mean = sum(x)/c,  var = sum((x - mean)^2)/c  (both in double),  rstd = 1/sqrt(var + eps),
  ;;   xhat = (x - mean)*rstd,  y = xhat*gamma (+ beta when hasBeta)  (float32),
  ;; writing y and xhat (rows, c) and rstd (rows); y is formed from the stored xhat, the value the
  ;; backward pass reads back.
  (func (export "layernorm_fwd")
    (param $x i32) (param $gamma i32) (param $beta i32) (param $hasBeta i32)
    (param $y i32) (param $xhat i32) (param $rstd i32) (param $rows i32) (param $c i32) (param $eps f64)
    (local $end i32) (local $rowEnd i32) (local $p i32) (local $j i32) (local $cf f64)
    (local $mean f64) (local $inv f64) (local $s v128) (local $v v128) (local $d v128) (local $m2 v128)
    (local $vm v128) (local $vi v128) (local $xh v128) (local $out v128)
    (local.set $cf (f64.convert_i32_u (local.get $c)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.mul (local.get $rows) (local.get $c)) (i32.const 2))))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 2))))
        ;; mean
        (local.set $s (v128.const i32x4 0 0 0 0))
        (local.set $p (local.get $x))
        (block $d1
          (loop $l1
            (br_if $d1 (i32.ge_u (local.get $p) (local.get $rowEnd)))
            (local.set $v (v128.load (local.get $p)))
            (local.set $s (f64x2.add (local.get $s)
              (f64x2.add (f64x2.promote_low_f32x4 (local.get $v)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $l1)))
        (local.set $mean (f64.div (call $total (local.get $s)) (local.get $cf)))
        ;; variance about the mean
        (local.set $m2 (f64x2.splat (local.get $mean)))
        (local.set $s (v128.const i32x4 0 0 0 0))
        (local.set $p (local.get $x))
        (block $d2
          (loop $l2
            (br_if $d2 (i32.ge_u (local.get $p) (local.get $rowEnd)))
            (local.set $v (v128.load (local.get $p)))
            (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $m2)))
            (local.set $s (f64x2.add (local.get $s) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $m2)))
            (local.set $s (f64x2.add (local.get $s) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $l2)))
        (local.set $inv (f64.div (f64.const 1)
          (f64.sqrt (f64.add (f64.div (call $total (local.get $s)) (local.get $cf)) (local.get $eps)))))
        (f32.store (local.get $rstd) (f32.demote_f64 (local.get $inv)))
        ;; xhat and y, four columns of gamma and beta alongside
        (local.set $vm (f32x4.splat (f32.demote_f64 (local.get $mean))))
        (local.set $vi (f32x4.splat (f32.demote_f64 (local.get $inv))))
        (local.set $j (i32.const 0))
        (block $d3
          (loop $l3
            (br_if $d3 (i32.ge_u (local.get $x) (local.get $rowEnd)))
            (local.set $xh (f32x4.mul (f32x4.sub (v128.load (local.get $x)) (local.get $vm)) (local.get $vi)))
            (v128.store (local.get $xhat) (local.get $xh))
            (local.set $out (f32x4.mul (local.get $xh) (v128.load (i32.add (local.get $gamma) (local.get $j)))))
            (if (local.get $hasBeta)
              (then (local.set $out (f32x4.add (local.get $out) (v128.load (i32.add (local.get $beta) (local.get $j)))))))
            (v128.store (local.get $y) (local.get $out))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $xhat (i32.add (local.get $xhat) (i32.const 16)))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $l3)))
        (local.set $rstd (i32.add (local.get $rstd) (i32.const 4)))
        (br $row))))

  ;; Backward from dy (rows, c) and the forward's xhat (rows, c), rstd (rows): with g = dy*gamma,
  ;;   dx = rstd*((g - mean(g)) - xhat*mean(g*xhat)),  dgamma = sum_rows dy*xhat,  dbeta = sum_rows dy,
  ;; the row means and the column sums in double (acc: 2c doubles of scratch, [dgamma | dbeta]),
  ;; dgamma and dbeta (c each) written rounded once at the end.
  (func (export "layernorm_bwd")
    (param $dy i32) (param $xhat i32) (param $rstd i32) (param $gamma i32)
    (param $dx i32) (param $dgamma i32) (param $dbeta i32) (param $acc i32) (param $rows i32) (param $c i32)
    (local $end i32) (local $rowEnd i32) (local $p i32) (local $q i32) (local $j i32) (local $a i32) (local $cb i32)
    (local $cf f64) (local $sg v128) (local $sgx v128) (local $d v128) (local $xh v128) (local $g v128)
    (local $lo v128) (local $vsg v128) (local $vsgx v128) (local $vi v128)
    (local.set $cf (f64.convert_i32_u (local.get $c)))
    (local.set $cb (i32.shl (local.get $c) (i32.const 3)))
    (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $cb) (i32.const 1)))
    (local.set $end (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $rows) (local.get $c)) (i32.const 2))))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $dy) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $dy) (i32.shl (local.get $c) (i32.const 2))))
        ;; row sums of g and g*xhat; column sums of dy*xhat and dy
        (local.set $sg (v128.const i32x4 0 0 0 0))
        (local.set $sgx (v128.const i32x4 0 0 0 0))
        (local.set $p (local.get $dy))
        (local.set $q (local.get $xhat))
        (local.set $j (i32.const 0))
        (local.set $a (local.get $acc))
        (block $d1
          (loop $l1
            (br_if $d1 (i32.ge_u (local.get $p) (local.get $rowEnd)))
            (local.set $d (v128.load (local.get $p)))
            (local.set $xh (v128.load (local.get $q)))
            (local.set $g (f32x4.mul (local.get $d) (v128.load (i32.add (local.get $gamma) (local.get $j)))))
            ;; lanes 0, 1
            (local.set $lo (f64x2.promote_low_f32x4 (local.get $g)))
            (local.set $sg (f64x2.add (local.get $sg) (local.get $lo)))
            (local.set $sgx (f64x2.add (local.get $sgx) (f64x2.mul (local.get $lo) (f64x2.promote_low_f32x4 (local.get $xh)))))
            (v128.store (local.get $a) (f64x2.add (v128.load (local.get $a))
              (f64x2.mul (f64x2.promote_low_f32x4 (local.get $d)) (f64x2.promote_low_f32x4 (local.get $xh)))))
            (v128.store (i32.add (local.get $a) (local.get $cb))
              (f64x2.add (v128.load (i32.add (local.get $a) (local.get $cb))) (f64x2.promote_low_f32x4 (local.get $d))))
            ;; lanes 2, 3
            (local.set $g (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))
            (local.set $d (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d)))
            (local.set $xh (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $xh) (local.get $xh)))
            (local.set $lo (f64x2.promote_low_f32x4 (local.get $g)))
            (local.set $sg (f64x2.add (local.get $sg) (local.get $lo)))
            (local.set $sgx (f64x2.add (local.get $sgx) (f64x2.mul (local.get $lo) (f64x2.promote_low_f32x4 (local.get $xh)))))
            (v128.store offset=16 (local.get $a) (f64x2.add (v128.load offset=16 (local.get $a))
              (f64x2.mul (f64x2.promote_low_f32x4 (local.get $d)) (f64x2.promote_low_f32x4 (local.get $xh)))))
            (v128.store offset=16 (i32.add (local.get $a) (local.get $cb))
              (f64x2.add (v128.load offset=16 (i32.add (local.get $a) (local.get $cb))) (f64x2.promote_low_f32x4 (local.get $d))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (local.set $a (i32.add (local.get $a) (i32.const 32)))
            (br $l1)))
        (local.set $vsg (f32x4.splat (f32.demote_f64 (f64.div (call $total (local.get $sg)) (local.get $cf)))))
        (local.set $vsgx (f32x4.splat (f32.demote_f64 (f64.div (call $total (local.get $sgx)) (local.get $cf)))))
        (local.set $vi (v128.load32_splat (local.get $rstd)))
        (local.set $j (i32.const 0))
        (block $d2
          (loop $l2
            (br_if $d2 (i32.ge_u (local.get $dy) (local.get $rowEnd)))
            (local.set $g (f32x4.mul (v128.load (local.get $dy)) (v128.load (i32.add (local.get $gamma) (local.get $j)))))
            (v128.store (local.get $dx)
              (f32x4.mul (local.get $vi)
                (f32x4.sub (f32x4.sub (local.get $g) (local.get $vsg)) (f32x4.mul (v128.load (local.get $xhat)) (local.get $vsgx)))))
            (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
            (local.set $xhat (i32.add (local.get $xhat) (i32.const 16)))
            (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $l2)))
        (local.set $rstd (i32.add (local.get $rstd) (i32.const 4)))
        (br $row)))
    ;; the column sums, rounded once
    (local.set $a (local.get $acc))
    (local.set $j (i32.const 0))
    (block $w
      (loop $wl
        (br_if $w (i32.ge_u (local.get $j) (i32.shl (local.get $c) (i32.const 2))))
        (f32.store (i32.add (local.get $dgamma) (local.get $j)) (f32.demote_f64 (f64.load (local.get $a))))
        (f32.store (i32.add (local.get $dbeta) (local.get $j)) (f32.demote_f64 (f64.load (i32.add (local.get $a) (local.get $cb)))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $wl))))
)
