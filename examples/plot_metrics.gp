# Plots the per-epoch CSV of train_fmnist (--csv) as a PNG: the loss by part
# above, train and test accuracy below.
#
#   gnuplot -e "csv='run.csv'; out='run.png'" examples/plot_metrics.gp
#   make plot CSV=run.csv [PNG=run.png]
#
# Optional: width and height in pixels (default 1000 x 800).
# Columns, by header name: epoch, label_loss, pair1_loss, pair2_loss,
# pair3_loss, total_loss, train_accuracy, test_accuracy, images_per_second,
# seconds, lr.

if (!exists("csv")) { print "plot_metrics.gp: set csv='FILE.csv'"; exit status 2 }
if (!exists("out")) { out = csv[:strlen(csv) - 4] . ".png" }
if (!exists("width")) { width = 1000 }
if (!exists("height")) { height = 800 }

set terminal pngcairo size width, height font ",10"
set output out
set datafile separator ","
set key outside right top
set grid
set xlabel "epoch"
# Whole epochs on the axis, at most about ten of them.
stats csv using "epoch" nooutput
epoch_step = STATS_max > 10 ? ceil(STATS_max / 10) : 1
set xtics epoch_step
set multiplot layout 2, 1 title csv noenhanced

set title "loss by part"
set ylabel "loss"
plot csv using "epoch":"total_loss" with linespoints lw 2 title "total", \
     ""  using "epoch":"label_loss" with linespoints title "label", \
     ""  using "epoch":"pair1_loss" with linespoints title "SFR pair 1", \
     ""  using "epoch":"pair2_loss" with linespoints title "SFR pair 2", \
     ""  using "epoch":"pair3_loss" with linespoints title "SFR pair 3"

set title "accuracy"
set ylabel "accuracy"
set yrange [0:1]
plot csv using "epoch":"train_accuracy" with linespoints title "train", \
     ""  using "epoch":"test_accuracy" with linespoints title "test"

unset multiplot
