# loss-functions-maths, "Binary cross entrophy" (NumPy), then F.binary_cross_entropy on the same arrays
y_pred=np.array([0.1880, 0.4137, 0.2285])
y_true=np.array([0.0, 1.0, 0.0]) #2 labels: (0,1)

def BCE(y_pred,y_true):
  total_bce_loss=np.sum(-y_true*np.log(y_pred)-(1-y_true)*np.log(1-y_pred))
  # Get the mean BCE loss
  num_of_samples = y_pred.shape[0]
  mean_bce_loss = total_bce_loss / num_of_samples
  return mean_bce_loss

bce_value=BCE(y_pred, y_true)
total = np.sum(-y_true*np.log(y_pred)-(1-y_true)*np.log(1-y_pred))
