# exploring-loss-functions, "Numpy". The notebook ran where NumPy's default integer is int32 (its output shows
# dtype=torch.int32); on Linux it is int64, so the dtype is written out.
loss = nn.L1Loss()
y_pred_np = np.array([0.1, 0.3, 0.5, 0.9])
y_true_np = np.array([0, 1, 1, 1], dtype=np.int32)
y_pred = torch.from_numpy(y_pred_np)
y_true = torch.from_numpy(y_true_np)
