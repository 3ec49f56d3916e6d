# frozen_string_literal: true

# The generators' seeded choices, drawn from R (a Random each generator seeds before requiring this).

def rnd(a = nil) = a ? R.rand(a) : R.rand
def chance(p) = rnd < p
def pick(arr) = arr[rnd(arr.size)]
def sample(arr, n) = arr.shuffle(random: R).first([n, arr.size].min)
def rrange(a, b) = a + rnd(b - a + 1)

def pick_w(pairs) # [[value, weight], ...]
  t = pairs.sum { |_, w| w }
  x = rnd * t
  pairs.each do |v, w|
    return v if (x -= w) < 0
  end
  pairs.last[0]
end

def gauss = Math.sqrt(-2 * Math.log(1 - rnd)) * Math.cos(2 * Math::PI * rnd)
def sha1 = Array.new(40) { '0123456789abcdef'[rnd(16)] }.join
