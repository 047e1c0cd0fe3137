# loss-functions-maths, "Mean Absolute Error" and "Mean-Squared Error" (NumPy), then PyTorch on the same arrays
y_pred=np.array([0.000, 0.100, 0.200])
y_true=np.array([0.000, 0.200, 0.250])

#Defining Mean Absolute Error Loss function
def mae(pred,true):
  #get abolsute difference
  difference=pred-true
  absolute_difference =np.absolute(difference)

  #get the mean
  mean_absolute_error=absolute_difference.mean()
  return mean_absolute_error

mae_value = mae(y_pred, y_true)

#defining mean squared error loss function
def mse(pred,true):
  differences=pred-true
  squared_differences=differences**2

  #get the mean
  mean_squared_error=squared_differences.mean()
  return mean_squared_error

mse_value=mse(y_pred,y_true)

mae_loss = torch.nn.L1Loss()
mse_loss = torch.nn.MSELoss()
input = torch.from_numpy(y_pred)
target = torch.from_numpy(y_true)
